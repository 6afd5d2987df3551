// RealtimeClient: one WebSocket to /ws/realtime with authentication,
// heartbeat, reconnection with exponential backoff, and a clean stop.
//
// - Authenticates with its first message ({"type":"auth","api_key":...}), so
//   the key never appears in a URL or a server log line.
// - Heartbeat: a {"type":"ping"} every `heartbeatMs`; if nothing at all
//   arrives within `pongTimeoutMs` after a ping, the socket is considered dead
//   and replaced.
// - Backoff: initialMs * 2^attempt, capped at maxMs, times a jitter in
//   [0.5, 1); reset once the server says "connected".
// - Close code 1008 (bad or revoked key, or role too low) stops retrying:
//   state "unauthorized".
// - stop() detaches every handler before closing and clears every timer, so
//   nothing reconnects after it (the original console's ghost sockets).
// Not thread-related: all callbacks run on the browser's event loop.
import { z } from 'zod';

export type ConnectionState = 'idle' | 'connecting' | 'authenticating' | 'open' | 'reconnecting' | 'unauthorized' | 'stopped';

export const Envelope = z.object({
  type: z.string(),
  timestamp: z.string().optional(),
  data: z.unknown().optional(),
  message: z.string().optional(),
});
export type Envelope = z.infer<typeof Envelope>;

export interface SocketLike {
  readyState: number;
  onopen: ((ev: Event) => void) | null;
  onmessage: ((ev: MessageEvent) => void) | null;
  onclose: ((ev: CloseEvent) => void) | null;
  onerror: ((ev: Event) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface RealtimeOptions {
  url: string;
  apiKey: () => string | null;
  createSocket?: (url: string) => SocketLike;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  heartbeatMs?: number;
  pongTimeoutMs?: number;
  random?: () => number;
}

type Listener = (msg: Envelope) => void;
type StateListener = (state: ConnectionState, detail: string) => void;

export function backoffDelay(attempt: number, initialMs: number, maxMs: number, random: () => number): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(base * (0.5 + random() / 2));
}

export function defaultRealtimeUrl(loc: Location = window.location): string {
  return `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}/ws/realtime`;
}

export class RealtimeClient {
  private readonly opts: Required<Omit<RealtimeOptions, 'apiKey' | 'url'>> & Pick<RealtimeOptions, 'apiKey' | 'url'>;
  private socket: SocketLike | null = null;
  private listeners = new Set<Listener>();
  private stateListeners = new Set<StateListener>();
  private stateValue: ConnectionState = 'idle';
  private detail = '';
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private heartbeatTimer: ReturnType<typeof setInterval> | null = null;
  private pongTimer: ReturnType<typeof setTimeout> | null = null;
  private stopped = true;
  private connects = 0;

  constructor(options: RealtimeOptions) {
    this.opts = {
      createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
      initialBackoffMs: 500,
      maxBackoffMs: 30_000,
      heartbeatMs: 15_000,
      pongTimeoutMs: 10_000,
      random: Math.random,
      ...options,
    };
  }

  get state(): ConnectionState {
    return this.stateValue;
  }
  // How many sockets this client has opened (tests and the status badge).
  get connectionCount(): number {
    return this.connects;
  }
  get hasSocket(): boolean {
    return this.socket !== null;
  }

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
  onState(fn: StateListener): () => void {
    this.stateListeners.add(fn);
    fn(this.stateValue, this.detail);
    return () => this.stateListeners.delete(fn);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.attempt = 0;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimers();
    this.dropSocket(1000, 'client stopped');
    this.setState('stopped', '');
  }

  send(msg: Record<string, unknown>): boolean {
    if (!this.socket || this.socket.readyState !== 1 || this.stateValue !== 'open') return false;
    this.socket.send(JSON.stringify(msg));
    return true;
  }

  private setState(s: ConnectionState, detail: string): void {
    this.stateValue = s;
    this.detail = detail;
    for (const fn of this.stateListeners) fn(s, detail);
  }

  private clearTimers(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    if (this.pongTimer) clearTimeout(this.pongTimer);
    this.reconnectTimer = null;
    this.heartbeatTimer = null;
    this.pongTimer = null;
  }

  private dropSocket(code: number, reason: string): void {
    const s = this.socket;
    this.socket = null;
    if (!s) return;
    s.onopen = null;
    s.onmessage = null;
    s.onclose = null;
    s.onerror = null;
    try {
      s.close(code, reason);
    } catch {
      // already closed
    }
  }

  private connect(): void {
    if (this.stopped) return;
    const key = this.opts.apiKey();
    if (!key) {
      this.setState('unauthorized', 'no API key');
      return;
    }
    this.setState(this.attempt === 0 ? 'connecting' : 'reconnecting', '');
    const s = this.opts.createSocket(this.opts.url);
    this.socket = s;
    this.connects += 1;
    s.onopen = () => {
      this.setState('authenticating', '');
      s.send(JSON.stringify({ type: 'auth', api_key: key }));
    };
    s.onmessage = (ev: MessageEvent) => this.handleMessage(ev.data);
    s.onerror = () => {
      // onclose follows and schedules the retry
    };
    s.onclose = (ev: CloseEvent) => {
      if (this.socket !== s) return;
      this.socket = null;
      this.clearTimers();
      if (this.stopped) return;
      if (ev.code === 1008) {
        this.setState('unauthorized', ev.reason || 'the server refused the API key');
        return;
      }
      this.scheduleReconnect(ev.reason || `closed (${ev.code})`);
    };
  }

  private scheduleReconnect(detail: string): void {
    if (this.stopped || this.reconnectTimer) return;
    const delay = backoffDelay(this.attempt, this.opts.initialBackoffMs, this.opts.maxBackoffMs, this.opts.random);
    this.attempt += 1;
    this.setState('reconnecting', detail);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, delay);
  }

  private handleMessage(raw: unknown): void {
    if (this.pongTimer) {
      clearTimeout(this.pongTimer);
      this.pongTimer = null;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(String(raw));
    } catch {
      return;
    }
    const env = Envelope.safeParse(parsed);
    if (!env.success) return;
    const msg = env.data;
    if (msg.type === 'connected') {
      this.attempt = 0;
      this.setState('open', '');
      this.startHeartbeat();
      this.send({ type: 'request_stats' });
    } else if (msg.type === 'ping' || msg.type === 'pong') {
      return;  // keep-alives: their arrival already reset the pong timer
    }
    for (const fn of this.listeners) fn(msg);
  }

  private startHeartbeat(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = setInterval(() => {
      if (!this.send({ type: 'ping' })) return;
      if (this.pongTimer) return;
      this.pongTimer = setTimeout(() => {
        this.pongTimer = null;
        // No answer: the connection is dead even if the browser has not noticed.
        const s = this.socket;
        this.socket = null;
        this.clearTimers();
        if (s) {
          s.onclose = null;
          s.onmessage = null;
          s.onopen = null;
          s.onerror = null;
          try {
            s.close(4000, 'heartbeat timeout');
          } catch {
            // ignore
          }
        }
        this.scheduleReconnect('heartbeat timeout');
      }, this.opts.pongTimeoutMs);
    }, this.opts.heartbeatMs);
  }
}
