/**
 * Idle cost of the sidecar: a real `run` against the emulator with a log nobody writes to, and
 * the CPU time the process used (utime + stime from /proc/PID/stat) over a quiet window after the
 * start-up pass. Issue 15's target: under 0.1 % of one core.
 *
 *   node --import tsx bench/idle.ts [--seconds 60] [--settle 20] [--metrics] [--runs 1]
 *
 * `--metrics` turns the metrics endpoint on (process metrics are collected then); without it the
 * config has no `metrics` key, as in the default install. Not a test: the figure depends on the
 * machine and its load, so it is printed, not asserted.
 */
import { readFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
// The tests' helper: a plain node:net function with no test dependencies.
import { freePort } from '../test/helpers/net.js';
import { ensureBuilt, sleep, startBed, startSidecar } from './lib.js';

/** Clock ticks per second of /proc/PID/stat's utime/stime (USER_HZ): 100 on every Linux Node runs on. */
const TICKS_PER_S = 100;

/** utime + stime of a process, in seconds (fields 14 and 15; the name in parentheses may hold spaces). */
export function cpuSeconds(statText: string): number {
  const rest = statText.slice(statText.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state): utime is field 14 → rest[11], stime field 15 → rest[12].
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`unreadable /proc stat line: ${statText.slice(0, 80)}`);
  return (utime + stime) / TICKS_PER_S;
}

const procCpu = (pid: number): number => cpuSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8'));

async function oneRun(seconds: number, settleS: number, metrics: boolean): Promise<number> {
  const bed = await startBed(0);
  try {
    if (metrics) await appendFile(bed.configPath, `metrics: { listen: "127.0.0.1:${await freePort()}" }\n`);
    const sidecar = await startSidecar(bed);
    try {
      // Let start-up work settle first: JIT, the first status file, and V8's memory reducer, which
      // runs a few full collections in the first ~20 s after the start-up allocations.
      await sleep(settleS * 1000);
      const before = procCpu(sidecar.pid);
      const t0 = performance.now();
      await sleep(seconds * 1000);
      const used = procCpu(sidecar.pid) - before;
      const wall = (performance.now() - t0) / 1000;
      return (used / wall) * 100;
    } finally {
      await sidecar.stop();
    }
  } finally {
    await bed.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '60' },
      settle: { type: 'string', default: '20' },
      metrics: { type: 'boolean', default: false },
      runs: { type: 'string', default: '1' },
    },
  });
  const seconds = Number(values.seconds);
  const runs = Number(values.runs);
  if (!(seconds > 0) || !(runs >= 1)) throw new RangeError('--seconds and --runs must be positive');
  ensureBuilt((s) => console.error(s));
  for (let i = 0; i < runs; i++) {
    const pct = await oneRun(seconds, Number(values.settle), values.metrics);
    console.log(
      `idle ${seconds} s, metrics ${values.metrics ? 'on' : 'off'}: ${pct.toFixed(3)} % of one core (${((pct / 100) * 60).toFixed(3)} s CPU per minute)`,
    );
  }
}

const isEntry = process.argv[1] !== undefined && /[\\/]bench[\\/]idle\.ts$/.test(process.argv[1]);
if (isEntry) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exitCode = 1;
  });
}
