// The one typed API client: fetch + API key + zod validation + one error type.
//
// Every call names the schema of its response; a body that does not match is
// an ApiError of kind "validation" (never a half-typed object). HTTP errors
// carry the server's message and hint (its error body, src/http/error_mapping),
// network failures are kind "network". The key is held in memory here and set
// by the session (auth/session.tsx).
import type { z } from 'zod';
import { ErrorBody } from './schemas';

export type ApiErrorKind = 'http' | 'network' | 'validation';

export class ApiError extends Error {
  readonly kind: ApiErrorKind;
  readonly status: number;
  readonly code: string;
  readonly hint: string;
  readonly retryable: boolean;

  constructor(kind: ApiErrorKind, message: string, opts: { status?: number; code?: string; hint?: string; retryable?: boolean } = {}) {
    super(message);
    this.name = 'ApiError';
    this.kind = kind;
    this.status = opts.status ?? 0;
    this.code = opts.code ?? kind;
    this.hint = opts.hint ?? '';
    this.retryable = opts.retryable ?? kind === 'network';
  }
}

let apiKey: string | null = null;
let onUnauthenticated: (() => void) | null = null;

export function setApiKey(key: string | null): void {
  apiKey = key;
}
export function getApiKey(): string | null {
  return apiKey;
}
// Called on a 401 (key revoked or wrong): the session logs out.
export function setUnauthenticatedHandler(fn: (() => void) | null): void {
  onUnauthenticated = fn;
}

export function authHeaders(): Record<string, string> {
  return apiKey ? { Authorization: `Bearer ${apiKey}` } : {};
}

export async function errorFromResponse(res: Response): Promise<ApiError> {
  let text = '';
  try {
    text = await res.text();
  } catch {
    // body unreadable: the status says enough
  }
  return errorFromBody(res.status, text);
}

export function errorFromBody(status: number, text: string): ApiError {
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = null;
  }
  const body = ErrorBody.safeParse(parsed);
  if (body.success) {
    return new ApiError('http', body.data.error?.message ?? body.data.detail, {
      status,
      code: body.data.error?.code ?? String(status),
      hint: body.data.error?.hint ?? '',
      retryable: body.data.retryable ?? status >= 500,
    });
  }
  return new ApiError('http', text.trim() || `HTTP ${status}`, { status, retryable: status >= 500 });
}

export function parseWith<S extends z.ZodType>(schema: S, data: unknown, what: string): z.infer<S> {
  const r = schema.safeParse(data);
  if (!r.success) {
    const first = r.error.issues[0];
    const where = first ? `${first.path.join('.') || '(root)'}: ${first.message}` : 'unknown';
    throw new ApiError('validation', `unexpected response from ${what} (${where})`, {
      hint: 'the console and the server versions differ: reload the page; if it persists, report it',
    });
  }
  return r.data;
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  json?: unknown;
  body?: BodyInit;
  query?: Record<string, string | number | boolean | undefined | null>;
  signal?: AbortSignal;
}

export function buildUrl(path: string, query?: RequestOptions['query']): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

export async function request<S extends z.ZodType>(schema: S, path: string, opts: RequestOptions = {}): Promise<z.infer<S>> {
  const headers: Record<string, string> = { Accept: 'application/json', ...authHeaders() };
  let body = opts.body;
  if (opts.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.json);
  }
  let res: Response;
  try {
    res = await fetch(buildUrl(path, opts.query), { method: opts.method ?? 'GET', headers, body, signal: opts.signal ?? null });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError('network', 'cannot reach the threatd server', {
      hint: 'check that threatd is running and the network is up; the request will be retried',
    });
  }
  if (!res.ok) {
    const err = await errorFromResponse(res);
    if (res.status === 401 && onUnauthenticated) onUnauthenticated();
    throw err;
  }
  let data: unknown;
  try {
    data = await res.json();
  } catch {
    throw new ApiError('validation', `response from ${path} is not JSON`, { status: res.status });
  }
  return parseWith(schema, data, path);
}
