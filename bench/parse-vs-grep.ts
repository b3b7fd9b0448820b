/**
 * `f2b-sophosxg parse --json` against `grep -c ' Ban '` on a generated 1,000,000-line log.
 * Usage: npx tsx bench/parse-vs-grep.ts [--lines N] [--runs N] [--build]. F2B_BENCH_MAIN: another
 * build of the CLI (e.g. a copy of an older dist/). The former target "parse ≤ 3× grep" is
 * withdrawn (issue 14): it measured a subcommand's start-up more than anything users wait for; the
 * number that counts is the sidecar's catch-up (catch-up.ts). Kept as a before/after record.
 * Both read the file from the page cache (one warm-up run each); the median of the runs counts.
 * Besides wall-clock time (what the target is about) it prints CPU time from /usr/bin/time when
 * available, and the command's start-up cost (on an empty log), because on a loaded machine wall-clock
 * numbers mostly measure the neighbours.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateLog } from './gen-log.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const opt = (name: string, def: number): number => {
  const i = argv.indexOf(name);
  const v = i >= 0 ? Number(argv[i + 1]) : def;
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} wants a positive integer`);
  return v;
};
const lines = opt('--lines', 1_000_000);
const runs = opt('--runs', 5);

const main = process.env['F2B_BENCH_MAIN'] ?? join(root, 'dist/src/cli/main.js');

/** Newest mtime under a directory (recursive), for the "is dist/ stale?" check. */
function newest(dir: string, ext: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p, ext));
    else if (e.name.endsWith(ext)) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

const stale = () => !existsSync(main) || newest(join(root, 'src'), '.ts') > newest(join(root, 'dist/src'), '.js');
if (process.env['F2B_BENCH_MAIN'] === undefined && (argv.includes('--build') || stale())) {
  console.log('building dist/ …');
  // tsc emits even when someone else's file has a type error; the bench only needs the parse path.
  spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  if (!existsSync(main)) throw new Error('build failed: no dist/src/cli/main.js');
}

interface Timed {
  ms: number;
  /** user + system CPU seconds of the child, when /usr/bin/time is there */
  cpuMs: number | undefined;
  out: string;
  err: string;
}

const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const CPU_MARK = '@@cpu ';

function time(cmd: string, args: string[], okStatus = [0]): Timed {
  const [file, fileArgs] = TIME ? [TIME, ['-f', `${CPU_MARK}%U %S`, cmd, ...args]] : [cmd, args];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(file, fileArgs, { cwd: root, encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status === null || !okStatus.includes(r.status)) throw new Error(`${cmd} failed (${r.status ?? r.signal}): ${r.stderr}`);
  let err = r.stderr;
  let cpuMs: number | undefined;
  const at = err.lastIndexOf(CPU_MARK);
  if (at >= 0) {
    const [u, s] = err
      .slice(at + CPU_MARK.length)
      .trim()
      .split(' ')
      .map(Number);
    cpuMs = ((u ?? 0) + (s ?? 0)) * 1000;
    err = err.slice(0, at);
  }
  return { ms, cpuMs, out: r.stdout, err };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const fmt = (xs: number[]) => `median ${median(xs).toFixed(0).padStart(6)} ms  (${xs.map((x) => x.toFixed(0)).join(', ')})`;

const dir = mkdtempSync(join(tmpdir(), 'f2b-bench-'));
try {
  const file = join(dir, 'fail2ban.log');
  const stats = generateLog(file, lines);
  console.log(`log: ${stats.lines} lines, ${(statSync(file).size / 1e6).toFixed(1)} MB, ${stats.bans} Ban lines, ${stats.events} events`);

  // Output goes to /dev/null through the shell, as in real use of a redirect.
  const parseArgs = (log: string) => ['-c', `exec node ${JSON.stringify(main)} parse --json ${JSON.stringify(log)} > /dev/null`];
  const grepArgs = ['-c', ' Ban ', file];

  const g0 = time('grep', grepArgs, [0, 1]);
  const p0 = time('sh', parseArgs(file));
  console.log(`grep count: ${g0.out.trim()}; ${p0.err.trim()}`);
  const m = /(\d+) event\(s\)/.exec(p0.err);
  if (!m || Number(m[1]) !== stats.events) throw new Error(`parse found ${m?.[1] ?? '?'} events, the generator wrote ${stats.events}`);

  const g: Timed[] = [];
  const p: Timed[] = [];
  for (let i = 0; i < runs; i++) {
    g.push(time('grep', grepArgs, [0, 1]));
    p.push(time('sh', parseArgs(file)));
  }
  // Start-up of the same command on an empty log (`--version` would load every command module).
  const empty = join(dir, 'empty.log');
  writeFileSync(empty, '');
  const base = Array.from({ length: 3 }, () => time('sh', parseArgs(empty)));
  // Node's own start-up, the floor under any JavaScript tool. NODE_EXTRA_CA_CERTS (set on some
  // machines, this sandbox included) makes Node 20 read that bundle at every start.
  const bare = Array.from({ length: 5 }, () => time('node', ['-e', '0']));
  const extraCa = process.env.NODE_EXTRA_CA_CERTS;
  const bareNoCa = extraCa ? Array.from({ length: 5 }, () => time('env', ['-u', 'NODE_EXTRA_CA_CERTS', 'node', '-e', '0'])) : undefined;
  const gm = median(g.map((x) => x.ms));
  const pm = median(p.map((x) => x.ms));
  const bm = median(base.map((x) => x.ms));
  console.log(`grep -c ' Ban '                 wall ${fmt(g.map((x) => x.ms))}`);
  console.log(`parse --json > /dev/null        wall ${fmt(p.map((x) => x.ms))}`);
  console.log(`parse --json <empty log>        wall ${fmt(base.map((x) => x.ms))}  (start-up only)`);
  console.log(`node -e 0                       wall ${fmt(bare.map((x) => x.ms))}  (Node itself)`);
  if (bareNoCa)
    console.log(`node -e 0, no NODE_EXTRA_CA_CERTS wall ${fmt(bareNoCa.map((x) => x.ms))}  (this environment sets it to ${extraCa})`);
  if (TIME) {
    const cpu = (xs: Timed[]) => fmt(xs.map((x) => x.cpuMs ?? NaN));
    console.log(`grep                            cpu  ${cpu(g)}`);
    console.log(`parse                           cpu  ${cpu(p)}`);
    console.log(`parse <empty log>               cpu  ${cpu(base)}`);
  }
  const sizeMb = statSync(file).size / 1e6;
  console.log(`parse throughput after start-up: ${(sizeMb / Math.max(1e-3, (pm - bm) / 1000)).toFixed(0)} MB/s`);
  console.log(`ratio parse/grep: ${(pm / gm).toFixed(2)}x`);
  console.log(`ratio (parse − start-up)/grep: ${((pm - bm) / gm).toFixed(2)}x`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
