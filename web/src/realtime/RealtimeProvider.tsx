// One RealtimeClient per logged-in session, shared by every page: started
// when the session is ready, stopped on logout and on unmount (no ghost
// sockets). Pages subscribe to message types with useRealtime().
import { createContext, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import { getApiKey } from '../api/client';
import { useSession } from '../auth/session';
import { RealtimeClient, defaultRealtimeUrl, type ConnectionState, type Envelope } from './socket';

interface RealtimeCtx {
  client: RealtimeClient | null;
  state: ConnectionState;
  detail: string;
}

const Ctx = createContext<RealtimeCtx>({ client: null, state: 'idle', detail: '' });

export function RealtimeProvider({ children, url }: { children: ReactNode; url?: string }) {
  const { status } = useSession();
  const [client, setClient] = useState<RealtimeClient | null>(null);
  const [state, setState] = useState<ConnectionState>('idle');
  const [detail, setDetail] = useState('');

  useEffect(() => {
    if (status !== 'ready') return undefined;
    const c = new RealtimeClient({ url: url ?? defaultRealtimeUrl(), apiKey: getApiKey });
    const off = c.onState((s, d) => {
      setState(s);
      setDetail(d);
    });
    setClient(c);
    c.start();
    return () => {
      off();
      c.stop();
      setClient(null);
      setState('idle');
    };
  }, [status, url]);

  return <Ctx.Provider value={{ client, state, detail }}>{children}</Ctx.Provider>;
}

export function useRealtimeState(): { state: ConnectionState; detail: string } {
  const { state, detail } = useContext(Ctx);
  return { state, detail };
}

// Calls `handler` for every message of one of `types`; the latest handler is
// used without resubscribing.
export function useRealtime(types: readonly string[], handler: (msg: Envelope) => void): void {
  const { client } = useContext(Ctx);
  const ref = useRef(handler);
  ref.current = handler;
  const key = types.join(',');
  useEffect(() => {
    if (!client) return undefined;
    const wanted = new Set(key.split(','));
    return client.subscribe((m) => {
      if (wanted.has(m.type)) ref.current(m);
    });
  }, [client, key]);
}
