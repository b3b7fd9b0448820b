/**
 * The sidecar's own catch-up: a first start (no state) with `startAt: beginning` on a generated
 * 1,000,000-line fail2ban.log, until the state file holds the checkpoint of the last line (the
 * desired state is complete and saved), next to `grep -c` on the same file.
 *
 * The measured process (catch-up-child.ts) runs the sidecar's runtime as `run` does, from the
 * build under test, with one difference: its firewall is an in-memory fake that already holds
 * every address the log bans, so no write is made (the child reports the fake's write count:
 * 0) and reading the groups back costs microseconds. Fair to every version of the code: the same
 * runtime, config and file; what is timed is the tailer, the parser, the model and the saves.
 * Not timed: Node's start-up, loading the modules and filling the fake (before startRuntime).
 * The emulator is not used: reading 128,000 hosts back over HTTPS took longer than the catch-up
 * and failed with timeouts on a loaded machine, which measured the emulator, not the sidecar.
 *
 * Usage: npx tsx bench/catch-up.ts [--lines N] [--runs N], or npm run bench -- --only catch-up.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateLog, type GenStats } from './gen-log.js';
import { MAIN, PREFIX, ROOT, ensureBuilt, fmtMs, median } from './lib.js';

const GROUP4 = 'f2b_catchup';
const GROUP6 = 'f2b_catchup6';

export interface CatchUpRun {
  /** startRuntime called → mtime of the state file holding the last line's checkpoint. */
  ms: number;
  /** user + system CPU of the sidecar process over the same span. */
  cpuMs: number;
  /** Saves the child saw during the catch-up (a lower bound: it polls every 10 ms). */
  saves: number;
  /** Writes the fake made until then (changes, not no-op calls). */
  writes: number;
  /** Addresses the sidecar asked the port to add / remove until then. */
  adds: number;
  removes: number;
}

export interface CatchUpResult {
  log: GenStats & { bytes: number };
  /** Addresses the groups hold (the result the sidecar finds already applied). */
  addresses: { v4: number; v6: number };
  runs: CatchUpRun[];
  grepMs: number[];
  grepCount: number;
}

/**
 * Every address a Ban or Restore Ban line names, by family: a superset of what the sidecar ever
 * wants on the firewall during a catch-up. Each saved snapshot goes to the reconciler, so a ban the
 * log lifts later is still written once unless the group already holds it, and which snapshots are
 * saved depends on timing; only the superset makes every run write nothing. The extra hosts cost
 * removals only after the read-back ends (holdRemovals), after the moment measured.
 */
export function bannedAddresses(text: string): { v4: string[]; v6: string[] } {
  const v4 = new Set<string>();
  const v6 = new Set<string>();
  for (const m of text.matchAll(/\] (?:Restore )?Ban (\S+)$/gm)) {
    const ip = m[1] as string;
    (ip.includes(':') ? v6 : v4).add(ip);
  }
  return { v4: [...v4], v6: [...v6] };
}

async function writeConfig(dir: string, logPath: string): Promise<string> {
  const path = join(dir, 'catch-up.yaml');
  await writeFile(
    path,
    [
      `log: { path: ${JSON.stringify(logPath)}, startAt: beginning }`,
      `stateDir: ${JSON.stringify(join(dir, 'state'))}`,
      'logging: { level: warn }',
      'firewalls:',
      '  bench:',
      // Never contacted: the child hands the runtime an in-memory port instead.
      '    url: https://127.0.0.1:9',
      '    username: bench',
      '    passwordEnv: BENCH_XG_PASSWORD',
      `    hostPrefix: ${PREFIX}`,
      'groups:',
      `  - { name: ${GROUP4}, ipv6Name: ${GROUP6}, firewall: bench, jails: ["*"] }`,
    ].join('\n') + '\n',
  );
  return path;
}

/** One first start in a child process, with a fresh state dir. */
function oneRun(dir: string, configPath: string, addressesPath: string): CatchUpRun {
  spawnSync('rm', ['-rf', join(dir, 'state')]);
  const distRoot = resolve(MAIN, '../../..');
  // --optimize-for-size: what `run` sets for itself (src/cli/commands/run.ts, preferSmallHeap).
  const nodeArgs = ['--optimize-for-size', ...(process.env['F2B_BENCH_NODE_ARGS'] ?? '').split(' ').filter(Boolean)];
  const r = spawnSync(
    process.execPath,
    [...nodeArgs, '--import', 'tsx', join(ROOT, 'bench/catch-up-child.ts'), distRoot, configPath, addressesPath],
    {
      cwd: ROOT,
      encoding: 'utf8',
      maxBuffer: 1 << 24,
      timeout: 900_000,
    },
  );
  const last = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !last.startsWith('{')) throw new Error(`catch-up child failed (${r.status ?? r.signal}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(last) as CatchUpRun;
}

function grepOnce(file: string): { ms: number; count: number } {
  const t0 = performance.now();
  const r = spawnSync('grep', ['-c', ' Ban ', file], { encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`grep failed: ${r.stderr}`);
  return { ms, count: Number(r.stdout.trim()) };
}

export async function catchUp(
  dir: string,
  lines: number,
  runs: number,
  say: (s: string) => void = () => undefined,
): Promise<CatchUpResult> {
  const logPath = join(dir, 'fail2ban.log');
  const gen = generateLog(logPath, lines);
  const bytes = statSync(logPath).size;
  say(`catch-up: log ${gen.lines} lines, ${(bytes / 1e6).toFixed(1)} MB, ${gen.bans} Ban lines`);
  const banned = bannedAddresses(readFileSync(logPath, 'utf8'));
  const addressesPath = join(dir, 'addresses.json');
  await writeFile(addressesPath, JSON.stringify(banned));
  const configPath = await writeConfig(dir, logPath);
  const addresses = { v4: banned.v4.length, v6: banned.v6.length };
  say(`catch-up: the fake firewall holds ${addresses.v4} IPv4 + ${addresses.v6} IPv6 hosts`);
  const out: CatchUpRun[] = [];
  const grepMs: number[] = [];
  let grepCount = 0;
  grepOnce(logPath); // page cache
  for (let i = 0; i < runs; i++) {
    const r = oneRun(dir, configPath, addressesPath);
    const g = grepOnce(logPath);
    grepMs.push(g.ms);
    grepCount = g.count;
    say(
      `catch-up run ${i + 1}: ${fmtMs(r.ms)} (cpu ${fmtMs(r.cpuMs)}, ${r.saves} saves seen, ${r.writes} writes, ${r.adds} adds / ${r.removes} removes asked); grep ${fmtMs(g.ms)}`,
    );
    out.push(r);
  }
  return { log: { ...gen, bytes }, addresses, runs: out, grepMs, grepCount };
}

export function catchUpLines(r: CatchUpResult): string[] {
  const ms = median(r.runs.map((x) => x.ms));
  const cpu = median(r.runs.map((x) => x.cpuMs));
  const g = median(r.grepMs);
  const each = (xs: number[]) => xs.map((x) => fmtMs(x)).join(', ');
  return [
    `log: ${r.log.lines} lines, ${(r.log.bytes / 1e6).toFixed(1)} MB; groups hold ${r.addresses.v4} IPv4 + ${r.addresses.v6} IPv6 addresses; grep -c ' Ban ' = ${r.grepCount}`,
    `catch-up (start → last line saved)  median ${fmtMs(ms)}  runs ${each(r.runs.map((x) => x.ms))}`,
    `catch-up cpu (user+sys)             median ${fmtMs(cpu)}  runs ${each(r.runs.map((x) => x.cpuMs))}`,
    `grep -c ' Ban '                     median ${fmtMs(g)}  runs ${each(r.grepMs)}`,
    `ratio catch-up / grep: ${(ms / g).toFixed(0)}x; saves seen: ${r.runs.map((x) => x.saves).join(', ')}; firewall writes: ${r.runs.map((x) => x.writes).join(', ')}`,
  ];
}

async function cli(argv: readonly string[]): Promise<void> {
  const opt = (name: string, def: number): number => {
    const i = argv.indexOf(name);
    const v = i >= 0 ? Number(argv[i + 1]) : def;
    if (!Number.isInteger(v) || v < 1) throw new Error(`${name} wants a positive integer`);
    return v;
  };
  ensureBuilt(console.log);
  const dir = await mkdtemp(join(tmpdir(), 'f2b-catchup-'));
  try {
    const r = await catchUp(dir, opt('--lines', 1_000_000), opt('--runs', 3), console.log);
    console.log(catchUpLines(r).join('\n'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const isEntry = process.argv[1] !== undefined && /[\\/]bench[\\/]catch-up\.ts$/.test(process.argv[1]);
if (isEntry) {
  cli(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exitCode = 1;
  });
}
