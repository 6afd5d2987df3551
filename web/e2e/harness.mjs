// Test fixtures for the console's end-to-end test (run.mjs): start the real
// threatd binary on a free port with a temporary SQLite data directory (as
// tests/e2e/service/threatd_process.cpp does), call its API, and a tiny
// step runner that prints "N passed, M failed" like other test runners.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class Threatd {
  constructor(binary) {
    this.binary = binary;
    this.dataDir = mkdtempSync(join(tmpdir(), 'threatd-console-e2e-'));
    this.stdout = '';
    this.proc = null;
    this.base = '';
    this.adminKey = '';
  }

  env() {
    // Hermetic: no THREATD_* variables leak in from the developer's shell.
    return { PATH: '/usr/bin:/bin', HOME: this.dataDir };
  }

  // Starts `threatd serve --port 0`, waits for the readiness line and the
  // first-run admin key, then for the models to load.
  async start(timeoutMs = 30_000) {
    this.proc = spawn(this.binary, ['serve', '--port', '0', '--data-dir', this.dataDir], {
      cwd: this.dataDir,
      env: this.env(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc.stderr.on('data', (d) => (this.stderr = (this.stderr ?? '') + d));
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`threatd did not become ready; stdout:\n${this.stdout}`)), timeoutMs);
      this.proc.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`threatd exited with ${code}; stdout:\n${this.stdout}\nstderr:\n${this.stderr ?? ''}`));
      });
      this.proc.stdout.on('data', (d) => {
        this.stdout += d;
        const ready = /threatd listening on (http:\/\/[^\s]+)/.exec(this.stdout);
        if (!ready) return;
        const key = /\n\s+(tdk_[A-Za-z0-9_]+)\n/.exec(this.stdout);
        const login = /Open the console with it: (\S+)/.exec(this.stdout);
        this.base = ready[1];
        this.adminKey = key ? key[1] : '';
        this.loginUrl = login ? login[1] : '';
        clearTimeout(timer);
        this.proc.removeAllListeners('exit');
        resolve();
      });
    });
    await eventually(async () => {
      const h = await fetch(`${this.base}/api/v1/health/detailed`).then((r) => r.json());
      return h.checks?.models?.loading === false || (h.checks?.models && !('loading' in h.checks.models));
    }, timeoutMs, 'models loaded');
  }

  async api(method, path, body, key = this.adminKey) {
    const headers = { Authorization: `Bearer ${key}` };
    let payload;
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    const r = await fetch(`${this.base}${path}`, { method, headers, body: payload });
    const text = await r.text();
    let json = null;
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
    return { status: r.status, json, text };
  }

  run(args) {
    const r = spawnSync(this.binary, args, { cwd: this.dataDir, env: this.env(), encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`threatd ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
    return r.stdout;
  }

  async stop() {
    if (this.proc && this.proc.exitCode === null) {
      const exited = new Promise((resolve) => this.proc.once('exit', resolve));
      this.proc.kill('SIGTERM');
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

// Polls `fn` until it returns a truthy value (returned), or throws after
// `timeoutMs` naming `what` (the same idea as tests/support/eventually.h).
export async function eventually(fn, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function expect(cond, message) {
  if (!cond) throw new Error(message);
}

export class Steps {
  constructor() {
    this.passed = 0;
    this.failed = [];
  }
  async step(name, fn) {
    const started = Date.now();
    try {
      await fn();
      this.passed += 1;
      console.log(`[ OK ] ${name} (${Date.now() - started} ms)`);
    } catch (e) {
      this.failed.push(name);
      console.log(`[FAIL] ${name}: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    }
  }
  summary() {
    console.log(`\n${this.passed} passed, ${this.failed.length} failed`);
    if (this.failed.length) console.log(`failed: ${this.failed.join('; ')}`);
    return this.failed.length === 0;
  }
}
