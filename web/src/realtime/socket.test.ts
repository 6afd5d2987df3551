import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backoffDelay, RealtimeClient, type SocketLike } from './socket';

class FakeSocket implements SocketLike {
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: string[] = [];
  closed: { code?: number; reason?: string } | null = null;
  onopen: ((ev: Event) => void) | null = null;
  onmessage: ((ev: MessageEvent) => void) | null = null;
  onclose: ((ev: CloseEvent) => void) | null = null;
  onerror: ((ev: Event) => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(data: string) {
    this.sent.push(data);
  }
  close(code?: number, reason?: string) {
    this.closed = { code, reason };
    this.readyState = 3;
  }
  // Server side of the fake:
  open() {
    this.readyState = 1;
    this.onopen?.(new Event('open'));
  }
  message(obj: unknown) {
    this.onmessage?.(new MessageEvent('message', { data: JSON.stringify(obj) }));
  }
  drop(code = 1006, reason = '') {
    this.readyState = 3;
    this.onclose?.({ code, reason } as CloseEvent);
  }
}

function makeClient(extra: Partial<ConstructorParameters<typeof RealtimeClient>[0]> = {}) {
  return new RealtimeClient({
    url: 'ws://test/ws/realtime',
    apiKey: () => 'tdk_key',
    createSocket: (u) => new FakeSocket(u),
    random: () => 0.999, // jitter factor ~1: the delays below are the full backoff
    initialBackoffMs: 500,
    maxBackoffMs: 4000,
    heartbeatMs: 1000,
    pongTimeoutMs: 500,
    ...extra,
  });
}

beforeEach(() => {
  vi.useFakeTimers();
  FakeSocket.all = [];
});
afterEach(() => vi.useRealTimers());

describe('RealtimeClient', () => {
  it('authenticates with its first message, not the URL, and asks for stats once connected', () => {
    const c = makeClient();
    const states: string[] = [];
    c.onState((s) => states.push(s));
    c.start();
    const s = FakeSocket.all[0]!;
    expect(s.url).toBe('ws://test/ws/realtime');
    s.open();
    expect(JSON.parse(s.sent[0]!)).toEqual({ type: 'auth', api_key: 'tdk_key' });
    s.message({ type: 'connected', connections: 1 });
    expect(c.state).toBe('open');
    expect(JSON.parse(s.sent[1]!)).toEqual({ type: 'request_stats' });
    expect(states).toEqual(['idle', 'connecting', 'authenticating', 'open']);
    c.stop();
  });

  it('reconnects with exponential backoff, capped, and resets after success', () => {
    const c = makeClient();
    c.start();
    FakeSocket.all[0]!.drop();
    expect(c.state).toBe('reconnecting');
    vi.advanceTimersByTime(499);
    expect(FakeSocket.all).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.all).toHaveLength(2);
    FakeSocket.all[1]!.drop();
    vi.advanceTimersByTime(999);
    expect(FakeSocket.all).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.all).toHaveLength(3);
    // A successful connection resets the ladder.
    FakeSocket.all[2]!.open();
    FakeSocket.all[2]!.message({ type: 'connected' });
    FakeSocket.all[2]!.drop();
    vi.advanceTimersByTime(500);
    expect(FakeSocket.all).toHaveLength(4);
    c.stop();
  });

  it('backoff doubles up to the cap with jitter in [0.5, 1)', () => {
    expect(backoffDelay(0, 500, 4000, () => 0)).toBe(250);
    expect(backoffDelay(3, 500, 4000, () => 0.999)).toBe(3998);
    expect(backoffDelay(10, 500, 4000, () => 0.999)).toBe(3998);
  });

  it('stop() closes the socket and never reconnects (no ghost sockets)', () => {
    const c = makeClient();
    c.start();
    const s = FakeSocket.all[0]!;
    s.open();
    s.message({ type: 'connected' });
    c.stop();
    expect(s.closed?.code).toBe(1000);
    // A late close event from the browser must not bring it back.
    s.onclose?.({ code: 1006, reason: '' } as CloseEvent);
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.all).toHaveLength(1);
    expect(c.state).toBe('stopped');
    expect(c.hasSocket).toBe(false);
  });

  it('stops retrying when the server refuses the key (1008)', () => {
    const c = makeClient();
    c.start();
    FakeSocket.all[0]!.open();
    FakeSocket.all[0]!.drop(1008, 'invalid API key');
    expect(c.state).toBe('unauthorized');
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.all).toHaveLength(1);
  });

  it('replaces a socket that stops answering pings', () => {
    const c = makeClient();
    c.start();
    const s = FakeSocket.all[0]!;
    s.open();
    s.message({ type: 'connected' });
    vi.advanceTimersByTime(1000);
    expect(JSON.parse(s.sent.at(-1)!)).toEqual({ type: 'ping' });
    s.message({ type: 'pong' }); // answered: still the same socket
    vi.advanceTimersByTime(1000);
    expect(FakeSocket.all).toHaveLength(1);
    vi.advanceTimersByTime(500); // second ping unanswered
    expect(s.closed?.reason).toBe('heartbeat timeout');
    expect(c.state).toBe('reconnecting');
    vi.advanceTimersByTime(500);
    expect(FakeSocket.all).toHaveLength(2);
    c.stop();
  });

  it('delivers messages to subscribers until they unsubscribe', () => {
    const c = makeClient();
    const got: string[] = [];
    const off = c.subscribe((m) => got.push(m.type));
    c.start();
    const s = FakeSocket.all[0]!;
    s.open();
    s.message({ type: 'connected' });
    s.message({ type: 'prediction', data: {} });
    s.message({ type: 'ping' });
    s.onmessage?.(new MessageEvent('message', { data: 'not json' }));
    off();
    s.message({ type: 'prediction', data: {} });
    expect(got).toEqual(['connected', 'prediction']);
    c.stop();
  });
});
