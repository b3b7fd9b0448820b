/**
 * Process-level harness for the sidecar: the HTTPS emulator in the test process, a temp config
 * (pinned fingerprint, password from an env var or a file), state dir and fail2ban log, and the
 * real `f2b-sophosxg run` as a child process that tests kill -9 and restart.
 *
 * The child runs the CLI bundled once per test file by esbuild (the same transformer tsx uses):
 * `node --import tsx` costs 2.5–4 s per start on a loaded 2-core machine, and the fault suites
 * start the process dozens of times. F2B_TEST_TSX=1 runs through tsx instead.
 *
 * What the firewall should hold is computed here from the lines written, with a regex of our
 * own — never from the sidecar's state or parser.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, afterEach } from 'vitest';
import { appendFile, copyFile, mkdtemp, readFile, rename, rm, stat, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.js';
import type { StatusSnapshot } from '../../src/metrics/status.js';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const PREFIX = 'f2b_';
export const GROUP_V4 = 'f2b_t_v4';
export const GROUP_V6 = 'f2b_t_v6';
const PASSWORD_ENV = 'F2B_TEST_XG_PASSWORD';

// ---- the CLI as a child process -----------------------------------------------------------------

let bundle: Promise<string> | undefined;
const bundleDirs: string[] = [];

/** node arguments that start the CLI (bundle built on first use; node_modules linked beside it). */
async function cliArgv(): Promise<string[]> {
  const main = join(REPO, 'src/cli/main.ts');
  if (process.env.F2B_TEST_TSX === '1') return ['--import', 'tsx', main];
  bundle ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'f2b-cli-bundle-'));
    bundleDirs.push(dir);
    await symlink(join(REPO, 'node_modules'), join(dir, 'node_modules'));
    const { build } = await import('esbuild');
    // The entry check in main.ts wants the file called main.js.
    const outfile = join(dir, 'main.js');
    await build({
      entryPoints: [main],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      outfile,
      logLevel: 'warning',
    });
    return outfile;
  })();
  return [await bundle];
}

export interface Proc {
  readonly child: ChildProcess;
  /** Wall-clock ms when it was spawned: status.json older than this is a predecessor's. */
  readonly startedAt: number;
  /** Everything printed so far (stdout and stderr interleaved as received). */
  readonly output: () => string;
  readonly stdout: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill9(): Promise<void>;
  /** SIGTERM and wait; the exit code. */
  stop(): Promise<number | null>;
}

/** Every byte any child printed in this test file, for the password check. */
const transcripts: string[] = [];
export function allOutput(): string {
  return transcripts.join('');
}

export async function spawnCli(args: string[], env: NodeJS.ProcessEnv): Promise<Proc> {
  const startedAt = Date.now();
  const child = spawn(process.execPath, [...(await cliArgv()), ...args], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let stdout = '';
  const idx = transcripts.push('') - 1;
  const add = (s: string) => {
    out += s;
    transcripts[idx] = out;
  };
  child.stdout?.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
    add(s);
  });
  child.stderr?.setEncoding('utf8').on('data', (s: string) => add(s));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    startedAt,
    output: () => out,
    stdout: () => stdout,
    exited,
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return (await exited).code;
    },
  };
}

/** Run a one-shot command to its end. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; output: string }> {
  const p = await spawnCli(args, env);
  const { code } = await p.exited;
  return { code, stdout: p.stdout(), output: p.output() };
}

// ---- polling ------------------------------------------------------------------------------------

/** Poll `check` until it returns true; on the deadline throw with what `describe` says. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  describe: () => string | Promise<string>,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms: ${await describe()}`);
    await sleep(50);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The emulator's mulberry32: a seeded PRNG, so a fault schedule replays from its printed seed. */
import { seededRandom as seeded } from '../../src/emulator/profile.js';
export { seeded };

// ---- the fail2ban log ---------------------------------------------------------------------------

const pad2 = (n: number) => String(n).padStart(2, '0');

/**
 * Appends fail2ban 1.x lines in the exact layout of the fixture captures
 * (`%(asctime)s %(name)-24s[%(process)d]: %(levelname)-7s %(message)s`). One fail2ban pid for
 * the whole run: a new pid means a fail2ban restart to the sidecar.
 */
export class LogWriter {
  readonly lines: string[] = [];
  private t = Date.UTC(2024, 0, 1, 12, 0, 0, 0);

  constructor(
    readonly path: string,
    readonly pid = 1234,
  ) {}

  format(jail: string, message: string): string {
    const d = new Date((this.t += 7));
    const ts = `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())},${String(d.getUTCMilliseconds()).padStart(3, '0')}`;
    return `${ts} ${'fail2ban.actions'.padEnd(24)}[${this.pid}]: ${'NOTICE'.padEnd(7)} [${jail}] ${message}`;
  }

  async write(lines: string[]): Promise<void> {
    if (lines.length === 0) return;
    this.lines.push(...lines);
    await appendFile(this.path, `${lines.join('\n')}\n`);
  }

  ban(addresses: readonly string[], jail = 'sshd'): Promise<void> {
    return this.write(addresses.map((a) => this.format(jail, `Ban ${a}`)));
  }

  unban(addresses: readonly string[], jail = 'sshd'): Promise<void> {
    return this.write(addresses.map((a) => this.format(jail, `Unban ${a}`)));
  }

  /** logrotate's default: rename to .1, a new empty file at the path (fail2ban then reopens it). */
  async rotateRename(): Promise<void> {
    await rm(`${this.path}.1`, { force: true });
    await rename(this.path, `${this.path}.1`);
    await writeFile(this.path, '');
  }

  /** logrotate `copytruncate`: copy to .1, cut the original to zero in place. */
  async rotateCopyTruncate(): Promise<void> {
    await copyFile(this.path, `${this.path}.1`);
    await truncate(this.path, 0);
  }

  /**
   * The ban set these lines leave, per family: computed from the text, independently of
   * src/parser. `upToBytes`: only the lines within the first that many bytes (one file, no rotation).
   */
  expected(upToBytes = Infinity): { v4: Set<string>; v6: Set<string> } {
    const active = new Map<string, Set<string>>();
    const re = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} fail2ban\.actions +\[\d+\]: NOTICE +\[([^\]]+)\] (Ban|Unban) (\S+)$/;
    let bytes = 0;
    for (const l of this.lines) {
      bytes += Buffer.byteLength(l) + 1;
      if (bytes > upToBytes) break;
      const m = re.exec(l);
      if (!m) continue;
      const [, jail, op, addr] = m as unknown as [string, string, string, string];
      const key = canonical(addr);
      const jails = active.get(key) ?? new Set<string>();
      if (op === 'Ban') jails.add(jail);
      else jails.delete(jail);
      active.set(key, jails);
    }
    const v4 = new Set<string>();
    const v6 = new Set<string>();
    for (const [a, jails] of active) if (jails.size > 0) (a.includes(':') ? v6 : v4).add(a);
    return { v4, v6 };
  }
}

export function canonical(a: string): string {
  return ipaddr.parse(a).toString();
}

/** n distinct public test addresses (198.18.0.0/15 and 2001:db8::/32), starting at `from`. */
export function v4s(n: number, from = 0): string[] {
  return Array.from({ length: n }, (_, i) => {
    const k = from + i + 1;
    return `198.${18 + (k >> 16)}.${(k >> 8) & 255}.${k & 255}`;
  });
}
export function v6s(n: number, from = 0): string[] {
  return Array.from({ length: n }, (_, i) => `2001:db8::${(from + i + 1).toString(16)}`);
}

// ---- the world: emulator + config + files -------------------------------------------------------

export interface WorldOptions {
  emulator?: EmulatorOptions;
  /** Password source in the config (default env). */
  passwordFrom?: 'env' | 'file';
  windowMs?: number;
  maxSize?: number;
  batchSize?: number;
  requestTimeoutMs?: number;
  /** Put the state directory here (e.g. on a tiny tmpfs). */
  stateDir?: string;
  logLevel?: 'debug' | 'info';
  /** firewalls.xg.objects; unset: the schema default (lists), what users get. */
  objects?: 'lists' | 'hosts';
  /** The config's log.path from the world's directory (a fleet glob); unset: the world's one log. */
  logPath?: (dir: string) => string;
  /** suspend.restoreGraceMs (default: the schema's 60 s). */
  restoreGraceMs?: number;
}

/** status.json as `run` writes it. */
export type StatusFile = StatusSnapshot & { updatedAt?: string };

export interface World {
  readonly dir: string;
  readonly configPath: string;
  readonly stateDir: string;
  readonly passwordFile: string;
  readonly password: string;
  readonly emu: Emulator;
  readonly log: LogWriter;
  readonly env: NodeJS.ProcessEnv;
  /** `run -c CONFIG [...extra]` as a child. */
  start(extra?: string[]): Promise<Proc>;
  cli(args: string[]): Promise<{ code: number | null; stdout: string; output: string }>;
  /** Owned addresses in a group on the emulated firewall (canonical text). */
  owned(group: string): Set<string>;
  readStatus(): Promise<StatusFile | undefined>;
  /** The checkpoint saved in state.json (undefined: none yet / unreadable). */
  savedCheckpoint(): Promise<{ ino: number; offset: number } | undefined>;
  /**
   * Poll until the saved checkpoint is at the end of the current log file. copytruncate loses what
   * the reader had not read when the copy was taken (by nature, like for any tail -F); a test that
   * wants "nothing lost" therefore truncates only once the sidecar has caught up.
   */
  caughtUp(proc?: Proc, timeoutMs?: number): Promise<void>;
  /** Glob mode: poll until the saved checkpoint of `file` (any feed) is at its end. */
  caughtUpFile(file: string, proc?: Proc, timeoutMs?: number): Promise<void>;
  /** Poll until the firewall holds exactly what the log says and status.json agrees; throws with a diff. */
  converged(proc?: Proc, timeoutMs?: number, expected?: { v4: Set<string>; v6: Set<string> }): Promise<void>;
  close(): Promise<void>;
}

export function configYaml(
  w: { logPath: string; stateDir: string; url: string; fingerprint: string; passwordFile?: string },
  o: WorldOptions,
): string {
  const password = w.passwordFile ? `passwordFile: ${JSON.stringify(w.passwordFile)}` : `passwordEnv: ${PASSWORD_ENV}`;
  return [
    `log: { path: ${JSON.stringify(w.logPath)}, startAt: beginning }`,
    `stateDir: ${JSON.stringify(w.stateDir)}`,
    'firewalls:',
    '  xg:',
    `    url: ${w.url}`,
    '    username: admin',
    `    ${password}`,
    `    tls: { fingerprint256: "${w.fingerprint}" }`,
    `    hostPrefix: ${PREFIX}`,
    `    requestTimeoutMs: ${o.requestTimeoutMs ?? 5000}`,
    '    connectTimeoutMs: 1000',
    `    batchSize: ${o.batchSize ?? 200}`,
    ...(o.objects ? [`    objects: ${o.objects}`] : []),
    'groups:',
    `  - { name: ${GROUP_V4}, ipv6Name: ${GROUP_V6}, firewall: xg, jails: ["*"] }`,
    `batch: { windowMs: ${o.windowMs ?? 200}, maxSize: ${o.maxSize ?? 500} }`,
    'retry: { initialDelayMs: 100, maxDelayMs: 1000, multiplier: 2, jitter: 0.2 }',
    // An Unban is held this long in case it is a jail-stop Unban (5 s by default).
    `suspend: { stopUnbanWindowMs: 300${o.restoreGraceMs === undefined ? '' : `, restoreGraceMs: ${o.restoreGraceMs}`} }`,
    `logging: { level: ${o.logLevel ?? 'info'}, format: text }`,
    '',
  ].join('\n');
}

const worlds = new Set<World>();

export async function startWorld(o: WorldOptions = {}): Promise<World> {
  const dir = await mkdtemp(join(tmpdir(), 'f2b-sidecar-'));
  // Characters that XML, URLs and JSON all escape: a leak in any encoded form is still found.
  const password = `S3cr&t<"${randomBytes(6).toString('hex')}>`;
  const emu = await startEmulator({ users: { admin: password }, ...o.emulator });
  const logPath = join(dir, 'fail2ban.log');
  await writeFile(logPath, '');
  const stateDir = o.stateDir ?? join(dir, 'state');
  const passwordFile = join(dir, 'xg-password');
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  const configPath = join(dir, 'config.yaml');
  await writeFile(
    configPath,
    configYaml(
      {
        logPath: o.logPath?.(dir) ?? logPath,
        stateDir,
        url: emu.url,
        fingerprint: emu.fingerprint256,
        passwordFile: o.passwordFrom === 'file' ? passwordFile : undefined,
      },
      o,
    ),
  );
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, [PASSWORD_ENV]: password };
  const log = new LogWriter(logPath);
  const procs = new Set<Proc>();

  const owned = (group: string): Set<string> => {
    const out = new Set<string>();
    for (const name of emu.model.groupMembers(group)) {
      if (!name.startsWith(PREFIX)) continue;
      const host = emu.model.hostByName(name);
      // Lists mode (the default): an owned IPList holds many addresses; hosts mode: one per host.
      if (host?.hostType === 'IPList') {
        for (const a of (host.listOfIPAddresses ?? '').split(',')) if (a !== '') out.add(canonical(a));
        continue;
      }
      const ip = host?.ipAddress;
      out.add(ip === undefined ? `?${name}` : canonical(ip));
    }
    return out;
  };
  const readStatus = async (): Promise<StatusFile | undefined> => {
    try {
      return JSON.parse(await readFile(join(stateDir, 'status.json'), 'utf8')) as StatusFile;
    } catch {
      return undefined;
    }
  };

  const savedCheckpoint = async (): Promise<{ ino: number; offset: number } | undefined> => {
    try {
      const st = JSON.parse(await readFile(join(stateDir, 'state.json'), 'utf8')) as { checkpoint?: { ino: number; offset: number } };
      return st.checkpoint;
    } catch {
      return undefined;
    }
  };

  const world: World = {
    dir,
    configPath,
    stateDir,
    passwordFile,
    password,
    emu,
    log,
    env,
    async start(extra = []) {
      const p = await spawnCli(['run', '-c', configPath, ...extra], env);
      procs.add(p);
      void p.exited.then(() => procs.delete(p));
      return p;
    },
    cli: (args) => runCli(args, env),
    owned,
    readStatus,
    savedCheckpoint,
    async caughtUp(proc, timeoutMs = 20_000) {
      let last = '';
      await waitFor(
        async () => {
          const [cp, st] = await Promise.all([savedCheckpoint(), stat(logPath)]);
          last = `checkpoint ${JSON.stringify(cp)} vs file ino ${st.ino} size ${st.size}`;
          return cp !== undefined && cp.ino === st.ino && cp.offset === st.size;
        },
        timeoutMs,
        () => `${last}\n${proc?.output().slice(-2000) ?? ''}`,
      );
    },
    async caughtUpFile(file, proc, timeoutMs = 20_000) {
      let last = '';
      await waitFor(
        async () => {
          const st = await stat(file);
          const text = await readFile(join(stateDir, 'state.json'), 'utf8').catch(() => '{}');
          const feeds =
            (JSON.parse(text) as { checkpoints?: Record<string, { path: string; ino: number; offset: number }> }).checkpoints ?? {};
          const cp = Object.values(feeds).find((c) => c.path === file);
          last = `checkpoint ${JSON.stringify(cp)} vs file ino ${st.ino} size ${st.size}`;
          return cp !== undefined && cp.ino === st.ino && cp.offset === st.size;
        },
        timeoutMs,
        () => `${last}\n${proc?.output().slice(-2000) ?? ''}`,
      );
    },
    async converged(proc, timeoutMs = 30_000, expected) {
      const exp = expected ?? log.expected();
      let why = '';
      await waitFor(
        async () => {
          if (proc && proc.child.exitCode !== null)
            throw new Error(`sidecar exited (${proc.child.exitCode}):\n${proc.output().slice(-3000)}`);
          const d4 = setDiff(exp.v4, owned(GROUP_V4));
          const d6 = setDiff(exp.v6, owned(GROUP_V6));
          if (d4 || d6) {
            why = `firewall differs: v4 ${d4 || 'ok'}; v6 ${d6 || 'ok'}`;
            return false;
          }
          const s = await readStatus();
          if (proc && !(Date.parse(s?.updatedAt ?? '') >= proc.startedAt)) {
            why = `status.json not yet written by this process (updatedAt ${s?.updatedAt})`;
            return false;
          }
          const byName = new Map(s?.groups.map((g) => [g.group, g]));
          for (const [g, n] of [
            [GROUP_V4, exp.v4.size],
            [GROUP_V6, exp.v6.size],
          ] as const) {
            const st = byName.get(g);
            if (!st || st.desired !== n || st.applied !== n || st.pendingAdds !== 0 || st.pendingRemoves !== 0) {
              why = `status.json not converged for ${g} (expected ${n}): ${JSON.stringify(st)}`;
              return false;
            }
          }
          return true;
        },
        timeoutMs,
        () => `${why}\n--- sidecar output (tail) ---\n${proc?.output().slice(-3000) ?? ''}`,
      );
    },
    // Idempotent: a test may close early (before unmounting its state dir) and afterEach again.
    async close() {
      if (!worlds.has(world)) return;
      worlds.delete(world);
      await Promise.all([...procs].map((p) => p.kill9()));
      for (const f of ['status.json', 'state.json']) transcripts.push(await readFile(join(stateDir, f), 'utf8').catch(() => ''));
      await emu.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  worlds.add(world);
  return world;
}

/** Close every world still open and the CLI bundle (afterAll). */
export async function closeAll(): Promise<void> {
  await Promise.all([...worlds].map((w) => w.close()));
  await Promise.all(bundleDirs.map((d) => rm(d, { recursive: true, force: true })));
  bundleDirs.length = 0;
  bundle = undefined;
}

/** '' when equal, else a short description of what is missing and what is extra. */
export function setDiff(expected: ReadonlySet<string>, actual: ReadonlySet<string>): string {
  const missing = [...expected].filter((a) => !actual.has(a));
  const extra = [...actual].filter((a) => !expected.has(a));
  if (missing.length === 0 && extra.length === 0) return '';
  return `${missing.length} missing [${missing.slice(0, 5).join(', ')}] ${extra.length} extra [${extra.slice(0, 5).join(', ')}]`;
}

/** Every form of the secret a leak could take (raw, XML-, URL- and JSON-escaped). */
export function secretForms(secret: string): string[] {
  const xml = secret.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  return [
    ...new Set([
      secret,
      xml,
      encodeURIComponent(secret),
      new URLSearchParams({ x: secret }).toString().slice(2),
      JSON.stringify(secret).slice(1, -1),
    ]),
  ];
}

/**
 * One world per test, closed after it; every password used is kept for the leak checks. Call at
 * the top level of a test file.
 */
export function worldPerTest(): { open: (o?: Parameters<typeof startWorld>[0]) => Promise<World>; passwords: string[] } {
  let w: World | undefined;
  const passwords: string[] = [];
  afterEach(async () => {
    await w?.close();
    w = undefined;
  });
  afterAll(closeAll);
  return {
    passwords,
    open: async (o) => {
      w = await startWorld(o);
      passwords.push(w.password);
      return w;
    },
  };
}
