// The session: the API key, who it belongs to (GET /auth/me) and its role.
//
// The key comes from the login form or from the first-run URL that
// `threatd serve` prints (http://host:port/#api_key=KEY): a URL fragment is
// never sent to the server, so the key stays out of request logs; it is
// removed from the address bar at once. The key is kept in sessionStorage
// (this tab), or in localStorage when the user asks to be remembered.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { ApiError, setApiKey, setUnauthenticatedHandler } from '../api/client';
import { api } from '../api/endpoints';
import type { Me, Role } from '../api/schemas';

const STORAGE_KEY = 'threatd.api_key';
const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

export function hasRole(role: Role | undefined, needed: Role): boolean {
  return role !== undefined && RANK[role] >= RANK[needed];
}

// "#api_key=KEY", "#key=KEY" or "#/login?key=KEY" -> KEY
export function keyFromHash(hash: string): string | null {
  const h = hash.replace(/^#\/?/, '');
  const query = h.includes('?') ? h.slice(h.indexOf('?') + 1) : h;
  const params = new URLSearchParams(query);
  return params.get('api_key') ?? params.get('key');
}

type Status = 'checking' | 'anonymous' | 'ready';

export interface Session {
  status: Status;
  me: Me | null;
  error: ApiError | null;
  can: (needed: Role) => boolean;
  login: (key: string, remember: boolean) => Promise<boolean>;
  logout: () => void;
}

const Ctx = createContext<Session | null>(null);

function storedKey(): string | null {
  try {
    return sessionStorage.getItem(STORAGE_KEY) ?? localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

function storeKey(key: string | null, remember: boolean): void {
  try {
    sessionStorage.removeItem(STORAGE_KEY);
    localStorage.removeItem(STORAGE_KEY);
    if (key) (remember ? localStorage : sessionStorage).setItem(STORAGE_KEY, key);
  } catch {
    // storage unavailable: the key lives in memory for this page
  }
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [status, setStatus] = useState<Status>('checking');
  const [me, setMe] = useState<Me | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  const logout = useCallback(() => {
    storeKey(null, false);
    setApiKey(null);
    setMe(null);
    setStatus('anonymous');
  }, []);

  const login = useCallback(async (key: string, remember: boolean) => {
    setApiKey(key.trim());
    try {
      const who = await api.me();
      storeKey(key.trim(), remember);
      setMe(who);
      setError(null);
      setStatus('ready');
      return true;
    } catch (e) {
      setApiKey(null);
      setMe(null);
      setError(e instanceof ApiError ? e : new ApiError('network', String(e)));
      setStatus('anonymous');
      return false;
    }
  }, []);

  useEffect(() => {
    const fromUrl = keyFromHash(window.location.hash);
    if (fromUrl) window.history.replaceState(null, '', window.location.pathname + window.location.search);
    const key = fromUrl ?? storedKey();
    if (key) void login(key, false);
    else setStatus('anonymous');
  }, [login]);

  useEffect(() => {
    setUnauthenticatedHandler(logout);
    return () => setUnauthenticatedHandler(null);
  }, [logout]);

  const value = useMemo<Session>(
    () => ({ status, me, error, can: (needed) => hasRole(me?.role, needed), login, logout }),
    [status, me, error, login, logout],
  );
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useSession(): Session {
  const v = useContext(Ctx);
  if (!v) throw new Error('useSession outside SessionProvider');
  return v;
}
