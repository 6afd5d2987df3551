// The console's Realtime page under a live feed: frame intervals in Debian's
// Chromium while the test stream sends RATE flows/s (default 1,000) to
// /ws/realtime. The issue asks the page to "stay smooth at 1,000 events/s";
// smooth here means the main thread keeps producing frames: the script
// reports the requestAnimationFrame interval percentiles, the share of
// frames slower than 50 ms (visible jank) and the events the page counted.
//
//   node bench/console/realtime_fps.mjs build/release/bin/threatd
//
// Environment: RATE (flows/s, default 1000), DURATION (seconds, default 10),
// CHROMIUM (default /usr/bin/chromium). A benchmark, not a test: it prints
// numbers (docs/benchmarks.md "Web console"), it asserts nothing.
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

const webDir = resolve(new URL('../../web', import.meta.url).pathname);
const require = createRequire(`${webDir}/package.json`);
const { chromium } = require('playwright-core');
const { Threatd, eventually } = await import(`${webDir}/e2e/harness.mjs`);

const binary = resolve(process.argv[2] ?? 'build/release/bin/threatd');
const rate = Number(process.env.RATE ?? 1000);
const seconds = Number(process.env.DURATION ?? 10);

class Server extends Threatd {
  env() {
    // The hub coalesces predictions above 500/s per client by default.
    return { ...super.env(), THREATD_REALTIME_MAX_PREDICTIONS_PER_SECOND: String(rate * 2) };
  }
}

const server = new Server(binary);
let browser;
try {
  await server.start();
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  await page.goto(server.loginUrl);
  await page.waitForURL(/\/dashboard/);
  await page.goto(`${server.base}/realtime`);
  await page.getByText('Live: connected').first().waitFor();
  const started = await server.api('POST', '/api/v1/test/start-stream', { count: 0, rate, attack_mix: 0.3 });
  if (started.status !== 200) throw new Error(`start-stream: ${started.status} ${started.text}`);
  await new Promise((r) => setTimeout(r, 2000));  // warm up: the feed fills, the chart starts moving
  const frames = await page.evaluate(
    (ms) =>
      new Promise((done) => {
        const out = [];
        let last = performance.now();
        const end = last + ms;
        const tick = (now) => {
          out.push(now - last);
          last = now;
          if (now < end) requestAnimationFrame(tick);
          else done(out);
        };
        requestAnimationFrame(tick);
      }),
    seconds * 1000,
  );
  const status = (await server.api('GET', '/api/v1/test/status')).json;
  await server.api('POST', '/api/v1/test/stop-stream');
  const sorted = [...frames].sort((a, b) => a - b);
  const q = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  console.log(
    JSON.stringify({
      rate,
      seconds,
      frames: frames.length,
      fps: frames.length / seconds,
      frame_ms: { p50: q(0.5), p95: q(0.95), p99: q(0.99), max: sorted[sorted.length - 1] },
      frames_over_50ms: frames.filter((f) => f > 50).length,
      stream_sent: status?.sent ?? null,
    }),
  );
} finally {
  await browser?.close();
  await server.stop();
}
