/**
 * `npm run bench`: the sidecar against the one-process-per-ban way on the HTTPS emulator with a
 * fixed latency per write request, single-ban latency, memory at 100,000 addresses, and parse
 * throughput against grep, and the sidecar's catch-up on a 1,000,000-line log against grep (catch-up.ts).
 * Prints numbers (and OK/MISSED against the targets); never fails on them.
 *
 *   npm run bench [-- --quick] [--only burst,oneshot,latency,memory,parse,catch-up] [--latency MS]
 *                 [--sample N] [--bans N] [--sizes 1000,10000]
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { oneShotBurst, sidecarBurst, type BurstResult } from './burst.js';
import { singleBanLatency, type LatencyResult } from './latency.js';
import { STEADY_SPAN_MS, sidecarMemory, type MemoryResult } from './memory.js';
import { ROOT, ensureBuilt, fmtMb, fmtMs, table } from './lib.js';
import { catchUp, catchUpLines } from './catch-up.js';

const SECTIONS = ['burst', 'oneshot', 'latency', 'memory', 'parse', 'catch-up'] as const;
type Section = (typeof SECTIONS)[number];

export interface Options {
  quick: boolean;
  only: Set<Section>;
  latencyMs: number;
  sizes: number[];
  /** One-shot bans measured per sample (head, and tail for each burst size). */
  sample: number;
  latencyBans: number;
  /** Smaller sizes first: they show how memory grows on the way to the target size. */
  memoryAddresses: number[];
}

export function parseArgs(argv: readonly string[]): Options {
  const val = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    if (i < 0) return undefined;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${name} needs a value`);
    return v;
  };
  const num = (name: string): number | undefined => {
    const v = val(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${name}: not a non-negative integer: ${v}`);
    return n;
  };
  for (const a of argv) {
    if (a.startsWith('--') && !['--quick', '--only', '--latency', '--sample', '--bans', '--sizes'].includes(a))
      throw new Error(`unknown option ${a}`);
  }
  const quick = argv.includes('--quick');
  const onlyRaw = val('--only');
  const only = new Set<Section>();
  for (const s of onlyRaw?.split(',') ?? SECTIONS) {
    if (!(SECTIONS as readonly string[]).includes(s)) throw new Error(`--only: unknown section ${s} (one of ${SECTIONS.join(', ')})`);
    only.add(s as Section);
  }
  const latencyMs = num('--latency') ?? 200;
  // A 5 s write makes every sequential one-shot ban ~7 s and every quiet-period ban ~6 s: fewer of them.
  const slow = latencyMs >= 1000;
  const sizes = val('--sizes')?.split(',').map(Number) ?? (quick ? [1000] : [1000, 10_000]);
  if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('--sizes: positive integers, comma-separated');
  return {
    quick,
    only,
    latencyMs,
    sizes,
    sample: num('--sample') ?? (quick ? 10 : slow ? 20 : 50),
    latencyBans: num('--bans') ?? (quick ? 10 : slow ? 30 : 200),
    memoryAddresses: quick ? [10_000] : [10_000, 100_000],
  };
}

const ok = (pass: boolean) => (pass ? 'OK' : 'MISSED');
const x = (n: number) => `${n >= 10 ? n.toFixed(0) : n.toFixed(1)}x`;

function machine(): string[] {
  const sh = (cmd: string) => spawnSync('sh', ['-c', cmd], { encoding: 'utf8' }).stdout.trim();
  return [
    `date: ${new Date().toISOString()}`,
    `cpu: ${cpus().length} × ${cpus()[0]?.model ?? '?'} (nproc ${sh('nproc')}); load avg ${sh('cut -d" " -f1-3 /proc/loadavg')}`,
    `memory: ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `node: ${process.version}`,
  ];
}

async function burstSections(o: Options, say: (s: string) => void): Promise<string[]> {
  const lines: string[] = [];
  const sidecar = new Map<number, BurstResult>();
  if (o.only.has('burst')) {
    for (const n of o.sizes) {
      say(`burst: sidecar, ${n} bans at ${o.latencyMs} ms/write …`);
      const r = await sidecarBurst(n, o.latencyMs);
      sidecar.set(n, r);
      say(`  converged in ${fmtMs(r.ms)}, ${r.requests} requests (${r.writes} writes), peak RSS ${fmtMb(r.peakRssKb)}`);
    }
  }
  const oneShot = new Map<number, BurstResult>();
  if (o.only.has('oneshot')) {
    let head: Awaited<ReturnType<typeof oneShotBurst>>['head'] | undefined;
    for (const n of o.sizes) {
      say(`burst: one process per ban, ${n} bans at ${o.latencyMs} ms/write, sampling ${Math.min(o.sample, n)} …`);
      const r = await oneShotBurst(n, o.latencyMs, o.sample, head);
      head = r.head;
      oneShot.set(n, r);
      const s = r.sample;
      if (s?.tail) {
        say(
          `  measured: first ${s.head.n} bans ${fmtMs(s.head.ms)} / ${s.head.requests} requests; last ${s.tail.n} (group holding ${n - s.tail.n}) ${fmtMs(s.tail.ms)} / ${s.tail.requests} requests`,
        );
      }
      say(
        `  ${r.extrapolated ? 'extrapolated' : 'measured'}: ${fmtMs(r.ms)}, ${r.requests.toFixed(0)} requests, largest process peak RSS ${fmtMb(r.peakRssKb)}`,
      );
    }
  }
  const rows: string[][] = [];
  for (const n of o.sizes) {
    const s = sidecar.get(n);
    const p = oneShot.get(n);
    const m = p?.extrapolated ? 'extrapolated' : 'measured';
    if (s) rows.push([`${n}`, 'sidecar', fmtMs(s.ms), `${s.requests}`, fmtMb(s.peakRssKb), 'measured']);
    if (p) {
      const sampleNote = p.sample?.tail ? ` (from ${p.sample.head.n}+${p.sample.tail.n} measured)` : '';
      rows.push([`${n}`, 'one process per ban', fmtMs(p.ms), p.requests.toFixed(0), `${fmtMb(p.peakRssKb)} each`, m + sampleNote]);
    }
    if (s && p) {
      const tr = p.ms / s.ms;
      const rr = p.requests / s.requests;
      const target = n >= 10_000 ? ` target ≥50x: ${ok(tr >= 50)} / ${ok(rr >= 50)}` : '';
      rows.push([`${n}`, 'ratio (one-shot / sidecar)', x(tr), x(rr), '', `time / requests${target}`]);
    }
  }
  if (rows.length) {
    lines.push(
      `### Burst, write latency ${o.latencyMs} ms`,
      '',
      table(['bans', 'way', 'until all in group', 'requests', 'peak RSS', 'how'], rows),
      '',
    );
  }
  return lines;
}

function latencyLines(rs: LatencyResult[]): string[] {
  const r0 = rs[0];
  if (r0 === undefined) return [];
  return [
    `### Single ban (log line → firewall commit), write latency ${r0.writeLatencyMs} ms`,
    '',
    'quiet: each ban more than a window after the previous write; follow-up: 100–500 ms after the previous ban was acknowledged.',
    '',
    table(
      ['spacing', 'bans', 'window', 'median', 'p99', 'min', 'max', `target ≤ window + write = ${r0.targetMs} ms`],
      rs.map((r) => [
        r.spacing,
        `${r.bans}`,
        `${r.windowMs} ms`,
        `${r.medianMs.toFixed(0)} ms`,
        `${r.p99Ms.toFixed(0)} ms`,
        `${r.minMs.toFixed(0)} ms`,
        `${r.maxMs.toFixed(0)} ms`,
        `median ${ok(r.medianMs <= r.targetMs)}, p99 ${ok(r.p99Ms <= r.targetMs)}`,
      ]),
    ),
    '',
  ];
}

function memoryLines(r: MemoryResult): string[] {
  return [
    `### Sidecar memory with ${r.addresses} addresses desired (all already on the firewall)`,
    '',
    table(
      [
        'addresses',
        'RSS 3 s after settling',
        `RSS ${STEADY_SPAN_MS / 1000 + 3} s after`,
        'peak RSS (VmHWM)',
        'writes',
        'start → settled',
        'settled → last RSS move',
        'target RSS < 150 MB (steady)',
      ],
      [
        [
          `${r.addresses}`,
          fmtMb(r.rssKb),
          r.steadyKb === undefined ? '—' : fmtMb(r.steadyKb),
          fmtMb(r.hwmKb),
          `${r.writes}`,
          r.settleMs === undefined ? 'never' : fmtMs(r.settleMs),
          r.steadyAfterMs === undefined ? '—' : fmtMs(r.steadyAfterMs),
          ok(r.failure === undefined && r.steadyKb !== undefined && r.steadyKb < 150 * 1024),
        ],
      ],
    ),
    '',
    `Steady: ${STEADY_SPAN_MS / 1000 + 3} s after settling. V8 returns the start-up garbage (log catch-up, the group read back) to the system when its memory reducer runs, 10–40 s after the work ends.`,
    ...(r.failure ? ['', `NOT SETTLED: ${r.failure} (RSS figures: last reading before the stop)`] : []),
    '',
  ];
}

/** The parse-vs-grep script is someone else's: run it as it is and pass its output through. */
function parseSection(o: Options, say: (s: string) => void): string[] {
  const args = ['--import', 'tsx', 'bench/parse-vs-grep.ts', ...(o.quick ? ['--lines', '100000', '--runs', '1'] : [])];
  say(`parse: node ${args.join(' ')} …`);
  const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 24 });
  const out = `${r.stdout}${r.stderr}`.trim();
  for (const l of out.split('\n')) say(`  ${l}`);
  if (r.status !== 0) return ['### Parse throughput vs grep', '', `FAILED (exit ${r.status})`, ''];
  return ['### Parse throughput vs grep (bench/parse-vs-grep.ts)', '', '```', out, '```', ''];
}

/** First start, `startAt: beginning`, 1,000,000 lines (100,000 with --quick), the groups already holding the result. */
async function catchUpSection(o: Options, say: (s: string) => void): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'f2b-catchup-'));
  try {
    const r = await catchUp(dir, o.quick ? 100_000 : 1_000_000, o.quick ? 1 : 3, say);
    return ['### Catch-up: first start on a whole log (bench/catch-up.ts)', '', '```', ...catchUpLines(r), '```', ''];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function main(argv: readonly string[]): Promise<void> {
  const o = parseArgs(argv);
  const t0 = performance.now();
  const say = (s: string) => console.log(`[${fmtMs(performance.now() - t0).padStart(8)}] ${s}`);
  ensureBuilt(say);
  const report: string[] = [
    '## f2b-sophosxg bench',
    '',
    ...machine().map((l) => `- ${l}`),
    `- command: npm run bench -- ${argv.join(' ')}`.trimEnd(),
    '',
  ];

  report.push(...(await burstSections(o, say)));
  if (o.only.has('latency')) {
    say(`latency: ${o.latencyBans} single bans at ${o.latencyMs} ms/write …`);
    const quiet = await singleBanLatency(o.latencyBans, o.latencyMs, 'quiet');
    say(`latency: ${o.latencyBans} follow-up bans at ${o.latencyMs} ms/write …`);
    const followUp = await singleBanLatency(o.latencyBans, o.latencyMs, 'follow-up');
    report.push(...latencyLines([quiet, followUp]));
  }
  if (o.only.has('memory')) {
    for (const n of o.memoryAddresses) {
      say(`memory: sidecar with ${n} addresses …`);
      const r = await sidecarMemory(n, o.latencyMs);
      say(`  RSS ${fmtMb(r.rssKb)}, peak ${fmtMb(r.hwmKb)}${r.failure ? `; NOT SETTLED: ${r.failure}` : ''}`);
      report.push(...memoryLines(r));
    }
  }
  if (o.only.has('parse')) report.push(...parseSection(o, say));
  if (o.only.has('catch-up')) report.push(...(await catchUpSection(o, say)));
  report.push(`(total bench time ${fmtMs(performance.now() - t0)})`);
  console.log(`\n${report.join('\n')}`);
}

const isEntry = process.argv[1] !== undefined && /[\\/]bench[\\/]run\.ts$/.test(process.argv[1]);
if (isEntry) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exitCode = 1;
  });
}
