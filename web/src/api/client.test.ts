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
