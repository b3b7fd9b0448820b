/**
 * Cost of following many idle logs (issue 13: "100 sources idle add < 20 MB" to the whole sidecar):
 * tailSources over N files nobody writes to (`ROOT/hostI/fail2ban.log`, or `ROOT/hostI.log` with
 * `--layout flat`; one line each), in this
 * process. Prints the heap, external (ArrayBuffer) and RSS growth against a baseline taken after a
 * warm-up with one source (modules loaded, JIT warm), and the CPU used over an idle window.
 *
 *   node --expose-gc --import tsx bench/tail-sources.ts [--sources 100] [--seconds 60] [--settle 10] [--no-watch] [--poll-ms 5000] [--layout dirs|flat]
 *
 * Not a test: the figures depend on the machine and its load, so they are printed, not asserted.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { tailSources } from '../src/tail/index.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const MB = (n: number): string => (n / 1e6).toFixed(1);

/** CPU used over an idle window of `seconds`, in % of one core. */
async function idleCpu(seconds: number): Promise<number> {
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  await sleep(seconds * 1000);
  const cpu = process.cpuUsage(c0);
  return ((cpu.user + cpu.system) / 1e3 / (performance.now() - w0)) * 100;
}

async function settle(): Promise<NodeJS.MemoryUsage> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await sleep(200);
  }
  return process.memoryUsage();
}

/** Follows every `root/*\/fail2ban.log` until caught up; returns the unsubscribe. */
/** `dirs`: ROOT/hostI/fail2ban.log; `flat`: ROOT/hostI.log, every file in one directory. */
type Layout = 'dirs' | 'flat';

async function followAll(root: string, layout: Layout, watch: boolean, pollIntervalMs: number): Promise<() => void> {
  let caughtUp = false;
  const sub = tailSources({
    pattern: layout === 'dirs' ? join(root, '*', 'fail2ban.log') : join(root, '*.log'),
    startAt: 'beginning',
    watch,
    pollIntervalMs,
    onCaughtUp: () => (caughtUp = true),
  }).subscribe();
  while (!caughtUp) await sleep(20);
  return () => sub.unsubscribe();
}

function makeHosts(root: string, n: number, layout: Layout): void {
  for (let i = 0; i < n; i++) {
    if (layout === 'dirs') mkdirSync(join(root, `host${i}`));
    writeFileSync(
      layout === 'dirs' ? join(root, `host${i}`, 'fail2ban.log') : join(root, `host${i}.log`),
      `2026-12-04 12:00:00,000 fail2ban.server [1]: INFO    Starting Fail2ban v1.0.2 (host${i})\n`,
    );
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sources: { type: 'string', default: '100' },
      seconds: { type: 'string', default: '60' },
      settle: { type: 'string', default: '10' },
      'no-watch': { type: 'boolean', default: false },
      'poll-ms': { type: 'string', default: '5000' },
      layout: { type: 'string', default: 'dirs' },
    },
  });
  const n = Number(values.sources);
  const seconds = Number(values.seconds);
  const watch = !values['no-watch'];
  const pollMs = Number(values['poll-ms']);
  const layout = values.layout as Layout;
  if (layout !== 'dirs' && layout !== 'flat') throw new RangeError('--layout is dirs or flat');
  if (!(n >= 1) || !(seconds > 0)) throw new RangeError('--sources and --seconds must be positive');
  if (!(globalThis as { gc?: unknown }).gc) console.error('(run with node --expose-gc for steadier memory figures)');
  const base = mkdtempSync(join(tmpdir(), 'f2b-bench-sources-'));
  try {
    const warm = join(base, 'warm');
    const root = join(base, 'many');
    mkdirSync(warm);
    mkdirSync(root);
    makeHosts(warm, 1, layout);
    makeHosts(root, n, layout);
    const stopWarm = await followAll(warm, layout, watch, pollMs);
    await sleep(Number(values.settle) * 500);
    // The same idle window with one source first: the process costs something by itself (timers,
    // V8's memory reducer), which is not what the N sources add.
    const idle0 = await idleCpu(seconds);
    const m0 = await settle();
    const t0 = performance.now();
    const stop = await followAll(root, layout, watch, pollMs);
    const startMs = performance.now() - t0;
    await sleep(Number(values.settle) * 500);
    const m1 = await settle();
    const idle1 = await idleCpu(seconds);
    const m2 = await settle();
    console.log(
      [
        `${n} idle sources (${layout}, watch ${watch ? 'on' : 'off'}, poll every ${pollMs} ms), caught up in ${startMs.toFixed(0)} ms`,
        `  growth after start: heap ${MB(m1.heapUsed - m0.heapUsed)} MB, arrayBuffers ${MB(m1.arrayBuffers - m0.arrayBuffers)} MB, rss ${MB(m1.rss - m0.rss)} MB`,
        `  growth after ${seconds} s idle: heap ${MB(m2.heapUsed - m0.heapUsed)} MB, arrayBuffers ${MB(m2.arrayBuffers - m0.arrayBuffers)} MB, rss ${MB(m2.rss - m0.rss)} MB`,
        `  idle CPU over ${seconds} s: ${idle1.toFixed(2)} % of one core with them, ${idle0.toFixed(2)} % with one source before: +${(idle1 - idle0).toFixed(2)} %`,
      ].join('\n'),
    );
    stop();
    stopWarm();
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
});
