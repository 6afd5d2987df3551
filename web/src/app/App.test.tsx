// The console as a user sees it, with the API faked at fetch(): log-in from
// the first-run URL, role-aware pages, the language switch.
import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setApiKey } from '../api/client';
import { makeQueryClient } from '../lib/queryClient';
import { App } from './App';

class SilentSocket {
  static opened = 0;
  static closed = 0;
  readyState = 0;
  onopen = null;
  onmessage = null;
  onclose = null;
  onerror = null;
  constructor() {
    SilentSocket.opened += 1;
  }
  send() {}
  close() {
    SilentSocket.closed += 1;
  }
}

const decision = {
  id: 7, created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z', action_type: 'block_ip',
  action_description: 'block 203.0.113.9: 25 DDoS detections', status: 'applied', error_message: null, target: '203.0.113.9',
  origin: 'automatic', mode: 'enforce', rule: 'denial-of-service', attack_class: 'DDoS', confidence: 0.99, detections: 25,
  escalation_level: 0, duration_seconds: 600, expires_at: '2099-01-01T00:00:00Z', created_by: null, in_force: true, time_left_seconds: 500,
};

function fakeApi(role: string) {
  return vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input), 'http://console.test');
    const auth = new Headers(init?.headers).get('Authorization');
    const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status });
    if (auth !== 'Bearer tdk_from_url') return json({ detail: 'invalid API key', error: { code: 'unauthenticated', message: 'invalid API key' } }, 401);
    switch (url.pathname) {
      case '/api/v1/auth/me': return json({ name: 'first', role, key_id: 1 });
      case '/api/v1/upload/batches': return json({ batches: [] });
      case '/api/v1/actions/active': return json([decision]);
      case '/api/v1/actions': return json([decision]);
      case '/api/v1/healing/mode': return json({ mode: 'enforce', backend: 'log', circuit_breaker: { state: 'closed', blocks_last_minute: 1, max_blocks_per_minute: 100, trips: 0 } });
      case '/api/v1/policy': return json({ rules: [{ name: 'denial-of-service', classes: ['DDoS'], action: 'block_ip', durations: ['10m'] }] });
      default: return json({ detail: `no fake for ${url.pathname}`, error: { code: 'not_found', message: 'no fake' } }, 404);
    }
  });
}

function renderAt(path: string) {
  window.history.replaceState(null, '', path);
  return render(<App queryClient={makeQueryClient()} />);
}

beforeEach(() => {
  SilentSocket.opened = 0;
  SilentSocket.closed = 0;
  vi.stubGlobal('WebSocket', SilentSocket);
  localStorage.clear();
  sessionStorage.clear();
});
afterEach(() => {
  vi.unstubAllGlobals();
  setApiKey(null);
});

describe('console', () => {
  it('logs in from the first-run URL and removes the key from the address bar', async () => {
    vi.stubGlobal('fetch', fakeApi('admin'));
    renderAt('/upload#api_key=tdk_from_url');
    expect(await screen.findByRole('heading', { level: 1, name: 'Upload flows' })).toBeInTheDocument();
    expect(window.location.hash).toBe('');
    expect(window.location.pathname).toBe('/upload');
    expect(screen.getByText('admin')).toBeInTheDocument();
  });

  it('sends an anonymous visitor to the login page', async () => {
    vi.stubGlobal('fetch', fakeApi('admin'));
    renderAt('/actions');
    expect(await screen.findByRole('heading', { name: 'Sign in to threatd' })).toBeInTheDocument();
    expect(screen.getByLabelText('API key')).toBeInTheDocument();
  });

  it('shows a viewer no button it cannot use', async () => {
    vi.stubGlobal('fetch', fakeApi('viewer'));
    renderAt('/actions#api_key=tdk_from_url');
    const table = await screen.findByTestId('active-actions');
    expect(await within(table).findByText('203.0.113.9')).toBeInTheDocument();
    expect(within(table).queryByRole('button', { name: 'Revoke' })).not.toBeInTheDocument();
    expect(screen.queryByRole('heading', { name: 'Act by hand' })).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Edit policy' })).not.toBeInTheDocument();
  });

  it('gives an operator revoke (with confirmation) and the manual block form', async () => {
    vi.stubGlobal('fetch', fakeApi('operator'));
    renderAt('/actions#api_key=tdk_from_url');
    const table = await screen.findByTestId('active-actions');
    await userEvent.click(await within(table).findByRole('button', { name: 'Revoke' }));
    expect(screen.getByRole('group', { name: 'Lift the action on 203.0.113.9?' })).toBeInTheDocument();
    expect(screen.getByRole('heading', { name: 'Act by hand' })).toBeInTheDocument();
  });

  it('switches language without leaving the page', async () => {
    vi.stubGlobal('fetch', fakeApi('operator'));
    renderAt('/upload#api_key=tdk_from_url');
    await screen.findByRole('heading', { level: 1, name: 'Upload flows' });
    await userEvent.selectOptions(screen.getByLabelText('Language'), 'vi');
    expect(await screen.findByRole('heading', { level: 1, name: 'Tải lên luồng mạng' })).toBeInTheDocument();
    expect(window.location.pathname).toBe('/upload');
    expect(document.documentElement.lang).toBe('vi');
  });

  it('opens one WebSocket for the session and closes it on logout', async () => {
    vi.stubGlobal('fetch', fakeApi('viewer'));
    renderAt('/upload#api_key=tdk_from_url');
    await screen.findByRole('heading', { level: 1, name: 'Upload flows' });
    await waitFor(() => expect(SilentSocket.opened).toBe(1));
    await userEvent.click(screen.getByRole('link', { name: 'Actions' }));
    await screen.findByRole('heading', { level: 1, name: 'Self-healing actions' });
    expect(SilentSocket.opened).toBe(1);
    await userEvent.click(screen.getByRole('button', { name: 'Log out' }));
    await screen.findByRole('heading', { name: 'Sign in to threatd' });
    expect(SilentSocket.closed).toBe(1);
  });
});
