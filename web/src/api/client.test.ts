import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { ApiError, buildUrl, request, setApiKey, setUnauthenticatedHandler } from './client';
import { api } from './endpoints';

function respond(status: number, body: unknown) {
  return vi.fn(async () => new Response(typeof body === 'string' ? body : JSON.stringify(body), { status }));
}

afterEach(() => {
  vi.unstubAllGlobals();
  setApiKey(null);
  setUnauthenticatedHandler(null);
});

describe('request', () => {
  it('sends the key as a bearer token and returns the validated body', async () => {
    const fetchMock = respond(200, { name: 'ops', role: 'operator', key_id: 3 });
    vi.stubGlobal('fetch', fetchMock);
    setApiKey('tdk_secret');
    await expect(api.me()).resolves.toEqual({ name: 'ops', role: 'operator', key_id: 3 });
    const [url, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('/api/v1/auth/me');
    expect((init.headers as Record<string, string>).Authorization).toBe('Bearer tdk_secret');
  });

  it('refuses a response whose shape does not match the schema', async () => {
    // attack_rate as a string: the old console would have rendered "NaN %".
    vi.stubGlobal('fetch', respond(200, { total_predictions: 1, total_attacks: 0, total_normal: 1, attack_rate: '0', attack_type_distribution: {}, recent_predictions: [] }));
    const err = await api.stats().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).kind).toBe('validation');
    expect((err as ApiError).message).toContain('attack_rate');
  });

  it('turns the server error body into message and hint', async () => {
    vi.stubGlobal('fetch', respond(409, { detail: 'x', error: { code: 'conflict', message: 'IP address already exists in whitelist: 10.0.0.1', hint: 'edit the existing entry' } }));
    const err = (await api.addWhitelist({ ip_address: '10.0.0.1' }).catch((e: unknown) => e)) as ApiError;
    expect(err.kind).toBe('http');
    expect(err.status).toBe(409);
    expect(err.code).toBe('conflict');
    expect(err.message).toBe('IP address already exists in whitelist: 10.0.0.1');
    expect(err.hint).toBe('edit the existing entry');
    expect(err.retryable).toBe(false);
  });

  it('reports a network failure as retryable', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))));
    const err = (await request(z.object({}), '/api/v1/x').catch((e: unknown) => e)) as ApiError;
    expect(err.kind).toBe('network');
    expect(err.retryable).toBe(true);
  });

  it('logs out on 401', async () => {
    vi.stubGlobal('fetch', respond(401, { detail: 'bad key', error: { code: 'unauthenticated', message: 'invalid API key' } }));
    const onUnauth = vi.fn();
    setUnauthenticatedHandler(onUnauth);
    await expect(api.me()).rejects.toBeInstanceOf(ApiError);
    expect(onUnauth).toHaveBeenCalledTimes(1);
  });

  it('builds query strings without empty values', () => {
    expect(buildUrl('/a', { limit: 5, since: undefined, q: '', on: true })).toBe('/a?limit=5&on=true');
  });
});

describe('dashboard aggregates', () => {
  it('asks for the timeline in one request and returns its buckets', async () => {
    const body = {
      since: '2026-01-01T00:00:00.000Z', until: '2026-01-01T01:00:00.000Z', bucket_seconds: 1800,
      buckets: [
        { start: '2026-01-01T00:00:00.000Z', end: '2026-01-01T00:30:00.000Z', total: 12, attacks: 3 },
        { start: '2026-01-01T00:30:00.000Z', end: '2026-01-01T01:00:00.000Z', total: 0, attacks: 0 },
      ],
    };
    const fetchMock = respond(200, body);
    vi.stubGlobal('fetch', fetchMock);
    await expect(api.timeline({ since: body.since, until: body.until, buckets: 2 })).resolves.toEqual(body);
    expect(fetchMock).toHaveBeenCalledTimes(1);
    const url = new URL(String((fetchMock.mock.calls[0] as unknown as [string])[0]), 'http://x');
    expect(url.pathname).toBe('/api/v1/predictions/timeline');
    expect(Object.fromEntries(url.searchParams)).toEqual({ since: body.since, until: body.until, buckets: '2' });
  });

  it('asks for the top sources with a limit and accepts a null attack type', async () => {
    const body = { sources: [{ src_ip: '203.0.113.9', attacks: 25, last_seen: '2026-01-01T00:59:00.000Z', top_attack_type: null }] };
    const fetchMock = respond(200, body);
    vi.stubGlobal('fetch', fetchMock);
    await expect(api.topSources({ since: '2026-01-01T00:00:00.000Z', limit: 10 })).resolves.toEqual(body);
    expect((fetchMock.mock.calls[0] as unknown as [string])[0]).toBe('/api/v1/predictions/top-sources?since=2026-01-01T00%3A00%3A00.000Z&limit=10');
  });

  it('refuses a timeline bucket without counts', async () => {
    vi.stubGlobal('fetch', respond(200, { since: 'a', until: 'b', bucket_seconds: 60, buckets: [{ start: 'a', end: 'b', total: 1 }] }));
    const err = (await api.timeline().catch((e: unknown) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.kind).toBe('validation');
    expect(err.message).toContain('attacks');
  });
});
