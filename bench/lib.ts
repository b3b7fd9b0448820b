/**
 * Shared pieces of the benchmarks: statistics, the emulated firewall with an emulator-side write
 * clock, the sidecar and the one-shot CLI as real child processes, and their memory readings.
 * Everything runs against the HTTPS emulator on 127.0.0.1 with a fixed latency per write request.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator, type Emulator, type EmulatorModel } from '../src/emulator/index.js';
import { hostName } from '../src/xg/naming.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** F2B_BENCH_MAIN: another build of the CLI (e.g. one kept apart from a dist/ being rebuilt). */
export const MAIN = process.env['F2B_BENCH_MAIN'] ?? join(ROOT, 'dist/src/cli/main.js');
export const GROUP = 'f2b_bench';
export const PREFIX = 'f2b_';
export const USER = 'bench';
export const PASSWORD = 'bench-password';
export const PASSWORD_ENV = 'BENCH_XG_PASSWORD';

// ---- statistics ---------------------------------------------------------------------------------

/** Nearest-rank percentile (p in 0..100) of a non-empty sample; p50 of an even sample is the lower middle. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) throw new RangeError('percentile of an empty sample');
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile out of range: ${p}`);
  const sorted = [...xs].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

export const median = (xs: readonly number[]): number => percentile(xs, 50);

export interface Sample {
  /** Bans measured. */
  n: number;
  ms: number;
  requests: number;
}

/**
 * Linear extrapolation of a sequential sample to `total` bans. With a `tail` sample (the last
 * bans of the burst, measured against a group already holding the others) the per-ban cost is
 * the mean of head and tail: exact when the per-ban cost grows linearly with the group's size,
 * which it does for the one-shot CLI (every ban reads all owned hosts).
 */
export function extrapolate(head: Sample, total: number, tail?: Sample): { ms: number; requests: number } {
  if (head.n <= 0 || (tail && tail.n <= 0)) throw new RangeError('extrapolate needs a non-empty sample');
  const per = (s: Sample) => ({ ms: s.ms / s.n, requests: s.requests / s.n });
  const h = per(head);
  const t = tail ? per(tail) : h;
  return { ms: ((h.ms + t.ms) / 2) * total, requests: ((h.requests + t.requests) / 2) * total };
}

// ---- formatting ---------------------------------------------------------------------------------

export function fmtMs(ms: number): string {
  if (ms < 1000) return `${ms.toFixed(0)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 7_200_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

export const fmtMb = (kb: number): string => `${(kb / 1024).toFixed(1)} MB`;

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

// ---- addresses and log lines --------------------------------------------------------------------

/** The i-th bench address: public IPv4 in 11.0.0.0/8 (outside the default neverBlock), distinct up to 15.6 M. */
export function benchIp(i: number): string {
  if (!Number.isInteger(i) || i < 0 || i >= 250 ** 3) throw new RangeError(`address index out of range: ${i}`);
  return `11.${Math.floor(i / 62_500) % 250}.${Math.floor(i / 250) % 250}.${(i % 250) + 1}`;
}

/** A fail2ban 1.0.2 Ban or Unban record, local time as fail2ban writes it. */
export function actionLine(kind: 'Ban' | 'Unban', ip: string, when = new Date(), jail = 'sshd'): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const stamp =
    `${when.getFullYear()}-${p(when.getMonth() + 1)}-${p(when.getDate())} ` +
    `${p(when.getHours())}:${p(when.getMinutes())}:${p(when.getSeconds())},${p(when.getMilliseconds(), 3)}`;
  return `${stamp} ${'fail2ban.actions'.padEnd(24)}[4242]: ${'NOTICE'.padEnd(7)} [${jail}] ${kind} ${ip}\n`;
}

/** A fail2ban 1.0.2 Ban record. */
export const banLine = (ip: string, jail = 'sshd', when = new Date()): string => actionLine('Ban', ip, when, jail);

export const hostOf = (ip: string): string => hostName(PREFIX, ip);

// ---- build --------------------------------------------------------------------------------------

function newestMtime(dir: string): number {
  let max = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    max = Math.max(max, e.isDirectory() ? newestMtime(p) : e.name.endsWith('.ts') ? statSync(p).mtimeMs : 0);
  }
  return max;
}

/** `npm run build` when dist/ is missing or older than any source file. */
export function ensureBuilt(log: (s: string) => void): void {
  if (process.env['F2B_BENCH_MAIN'] !== undefined) return;
  if (existsSync(MAIN) && statSync(MAIN).mtimeMs >= newestMtime(join(ROOT, 'src'))) return;
  log('dist/ is missing or stale: npm run build …');
  const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  // tsc still emits when someone else's file has a type error; only a missing entry point is fatal.
  if (!existsSync(MAIN)) throw new Error(`build failed (exit ${r.status}): ${MAIN} missing`);
}

/** A progress printer stamped with the time since the bench began; dist/ built first. */
export function benchStart(): (s: string) => void {
  const t0 = performance.now();
  const say = (s: string) => console.log(`[${fmtMs(performance.now() - t0).padStart(8)}] ${s}`);
  ensureBuilt(say);
  return say;
}

// ---- the emulated firewall ----------------------------------------------------------------------

type ModelWrite = 'setHost' | 'setGroup' | 'removeHost' | 'removeGroup';

/**
 * Emulator-side time stamps: wraps the model's write methods, which the server calls after the
 * write latency, right before it answers. `lastWriteAt` is the moment the firewall committed the
 * latest change; `whenMember` resolves when a host becomes a member of the group.
 */
export class WriteClock {
  lastWriteAt = 0;
  private readonly waiting = new Map<string, (t: number) => void>();

  constructor(
    private readonly model: EmulatorModel,
    private readonly group: string,
  ) {
    const m = model as unknown as Record<ModelWrite, (...a: unknown[]) => { code: number }>;
    for (const name of ['setHost', 'setGroup', 'removeHost', 'removeGroup'] as const) {
      const orig = m[name].bind(model);
      m[name] = (...a: unknown[]) => {
        const r = orig(...a);
        if (r.code === 200) this.committed(performance.now());
        return r;
      };
    }
  }

  whenMember(host: string): Promise<number> {
    return new Promise((resolve) => this.waiting.set(host, resolve));
  }

  private committed(t: number): void {
    this.lastWriteAt = t;
    for (const [host, resolve] of this.waiting) {
      if (this.model.hostByName(host)?.groups.includes(this.group)) {
        this.waiting.delete(host);
        resolve(t);
      }
    }
  }
}

export interface ConfigOptions {
  windowMs?: number;
  maxSize?: number;
  batchSize?: number;
}

export interface Bed {
  emu: Emulator;
  clock: WriteClock;
  dir: string;
  logPath: string;
  configPath: string;
  env: NodeJS.ProcessEnv;
  /** Ban lines appended in one write, as fail2ban's log handler would flush a burst. */
  appendBans(ips: readonly string[]): Promise<void>;
  /** Owned hosts in the group, as the admin would see them. */
  members(): number;
  /** Put owned hosts into the group directly (state left by earlier bans), without requests. */
  seed(ips: readonly string[]): void;
  close(): Promise<void>;
}

export interface BenchConfig {
  logPath: string;
  stateDir: string;
  emu: Pick<Emulator, 'url' | 'fingerprint256'>;
  group: string;
  /** More keys of the firewall entry (`objects: lists`, `batchSize: 50`). */
  firewall?: readonly string[];
  /** More top-level lines (`batch: { … }`). */
  extra?: readonly string[];
}

/** The benches' config: firewall `bench` (the emulator, password from PASSWORD_ENV), one group for every jail. */
export function benchConfig(c: BenchConfig): string {
  return (
    [
      // beginning: lines appended before the tailer first opens the empty file still count.
      `log: { path: ${JSON.stringify(c.logPath)}, startAt: beginning }`,
      `stateDir: ${JSON.stringify(c.stateDir)}`,
      'firewalls:',
      '  bench:',
      `    url: ${c.emu.url}`,
      `    username: ${USER}`,
      `    passwordEnv: ${PASSWORD_ENV}`,
      `    tls: { fingerprint256: "${c.emu.fingerprint256}" }`,
      `    hostPrefix: ${PREFIX}`,
      ...(c.firewall ?? []).map((l) => `    ${l}`),
      'groups:',
      `  - { name: ${c.group}, firewall: bench, jails: ["*"] }`,
      ...(c.extra ?? []),
    ].join('\n') + '\n'
  );
}

/** A fresh emulator, temp dir, empty log and config file. */
export async function startBed(writeLatencyMs: number, o: ConfigOptions = {}): Promise<Bed> {
  const emu = await startEmulator({ users: { [USER]: PASSWORD }, faults: { writeLatencyMs } });
  const dir = await mkdtemp(join(tmpdir(), 'f2b-bench-'));
  const logPath = join(dir, 'fail2ban.log');
  const configPath = join(dir, 'config.yaml');
  await writeFile(logPath, '');
  await writeFile(
    configPath,
    benchConfig({
      logPath,
      stateDir: join(dir, 'state'),
      emu,
      group: GROUP,
      // These benches count per-address host objects (the figures of issue 6); lists mode is measured by bench/lists.ts.
      firewall: ['objects: hosts', ...(o.batchSize ? [`batchSize: ${o.batchSize}`] : [])],
      extra:
        o.windowMs || o.maxSize
          ? [`batch: { ${[o.windowMs && `windowMs: ${o.windowMs}`, o.maxSize && `maxSize: ${o.maxSize}`].filter(Boolean).join(', ')} }`]
          : [],
    }),
  );
  const clock = new WriteClock(emu.model, GROUP);
  return {
    emu,
    clock,
    dir,
    logPath,
    configPath,
    env: { ...process.env, [PASSWORD_ENV]: PASSWORD },
    appendBans: (ips) => appendFile(logPath, ips.map((ip) => banLine(ip)).join('')),
    members: () => emu.model.groupMembers(GROUP).length,
    seed(ips) {
      if (!emu.model.groupByName(GROUP)) emu.model.seedGroup({ name: GROUP, family: 'IPv4', description: 'Managed by f2b-sophosxg' });
      for (const ip of ips) {
        emu.model.seedHost({
          name: hostOf(ip),
          family: 'IPv4',
          hostType: 'IP',
          ipAddress: ip,
          groups: [GROUP],
          description: 'Managed by f2b-sophosxg',
        });
      }
    },
    async close() {
      await emu.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

// ---- processes ----------------------------------------------------------------------------------

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolves when `cond` holds (polled), rejects after `timeoutMs`. */
export async function until(cond: () => boolean, timeoutMs: number, what: string, everyMs = 20): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out after ${fmtMs(timeoutMs)} waiting for ${what}`);
    await sleep(everyMs);
  }
}

export interface ProcMemory {
  /** Peak resident set (VmHWM), kB. */
  hwmKb: number;
  /** Current resident set (VmRSS), kB. */
  rssKb: number;
}

export function procMemory(pid: number): ProcMemory {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN);
  return { hwmKb: kb('VmHWM'), rssKb: kb('VmRSS') };
}

export interface Sidecar {
  pid: number;
  memory(): ProcMemory;
  /** SIGTERM and wait for a clean exit; throws with the end of stderr otherwise. */
  stop(): Promise<void>;
}

/** `node dist/src/cli/main.js run -c CONFIG` as a real child process. */
export async function startSidecar(bed: Bed, startupTimeoutMs = 60_000): Promise<Sidecar> {
  // F2B_BENCH_NODE_ARGS: V8 flags for the sidecar (e.g. "--max-old-space-size=128"), to measure
  // what a memory-capped service (NODE_OPTIONS in a systemd drop-in) would hold.
  const nodeArgs = (process.env['F2B_BENCH_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, MAIN, 'run', '-c', bed.configPath], {
    env: bed.env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  let exited: number | null | undefined;
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r((exited = code))));
  const fail = (why: string) => new Error(`sidecar ${why}; stderr:\n${stderr}`);
  // Ready: the start-up pass created the group and then went quiet.
  try {
    await until(
      () => exited !== undefined || bed.emu.model.groupByName(GROUP) !== undefined,
      startupTimeoutMs,
      'the sidecar to create its group',
    );
    if (exited !== undefined) throw fail(`exited with ${exited} during start-up`);
    let last = -1;
    await until(
      () => {
        const quiet = bed.emu.stats.requests === last;
        last = bed.emu.stats.requests;
        return quiet;
      },
      startupTimeoutMs,
      'the start-up pass to finish',
      500,
    );
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const pid = child.pid as number;
  return {
    pid,
    memory: () => procMemory(pid),
    async stop() {
      if (exited === undefined) child.kill('SIGTERM');
      // A sidecar stuck in garbage collection would not answer SIGTERM in any useful time.
      const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const code = await exit.finally(() => clearTimeout(killer));
      if (code !== 0) throw fail(`exited with ${code}`);
    },
  };
}

/**
 * Makes a short-lived node process report its peak RSS on stderr at exit, so a one-shot command
 * can be measured without racing its end. Loaded with --import; the CLI itself is unchanged.
 */
const HWM_PROBE =
  'data:text/javascript,' +
  encodeURIComponent(
    "import { readFileSync, writeSync } from 'node:fs';" +
      "process.on('exit', () => { const m = /^VmHWM:\\s+(\\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'));" +
      " writeSync(2, `\\nbench-vmhwm-kb ${m ? m[1] : 'NaN'}\\n`); });",
  );

/** One `f2b-sophosxg ban --ip IP -c CONFIG`, as fail2ban's actionban runs it; returns its peak RSS (kB). */
export function banOnce(bed: Bed, ip: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', HWM_PROBE, MAIN, 'ban', '--ip', ip, '-c', bed.configPath], {
      env: bed.env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      const hwm = Number(/bench-vmhwm-kb (\d+)/.exec(stderr)?.[1] ?? NaN);
      if (code === 0) resolve(hwm);
      else reject(new Error(`ban --ip ${ip} exited with ${code}: ${stderr.trim()}`));
    });
  });
}

export interface GroupProgress {
  desired: number;
  applied: number;
  pendingAdds: number;
}

/** The sidecar's own view of the bench group, from the status.json it rewrites every second. */
export function sidecarProgress(bed: Bed): GroupProgress | undefined {
  try {
    const s = JSON.parse(readFileSync(join(bed.dir, 'state', 'status.json'), 'utf8')) as { groups?: (GroupProgress & { group: string })[] };
    return s.groups?.find((g) => g.group === GROUP);
  } catch {
    return undefined; // not written yet, or caught mid-rename
  }
}
