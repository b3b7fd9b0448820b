// Runs Debian's real fail2ban in a scratch directory so end-to-end tests can watch it write the log
// the sidecar follows. Everything the server touches (config copy, socket, pid file, sqlite db, its own
// log, the monitored input logs, the dummy action's target) lives in the scratch dir; the jails use
// Debian's `dummy` action, so no packet filter is ever touched. Runs as the test user (root in CI,
// as for the fixture captures); nothing outside the scratch dir is written.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFile, chmod, cp, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type SandboxJail = 'sshd' | 'webapp-auth';

export const SANDBOX_JAILS: readonly SandboxJail[] = ['sshd', 'webapp-auth'];

/** Failures needed for a ban, as configured in test/fixtures/fail2ban-sandbox/jail.local. */
export const SANDBOX_MAXRETRY: Readonly<Record<SandboxJail, number>> = { sshd: 3, 'webapp-auth': 2 };

export interface ClientResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RotateOptions {
  /** Create the new empty file before flushlogs, like Debian's `create 640 root adm` (default true). */
  create?: boolean;
  /** Runs after the rename and before `flushlogs`: lines fail2ban writes now land in the renamed file. */
  beforeFlush?: () => Promise<void>;
}

export interface Fail2banSandbox {
  /** Scratch root (mkdtemp); removed by close(). */
  readonly dir: string;
  /** Private copy of the config (`fail2ban-client -c`). */
  readonly etcDir: string;
  readonly socketPath: string;
  readonly pidFile: string;
  readonly dbPath: string;
  /** fail2ban's own log (logtarget), what the sidecar tails. */
  readonly logPath: string;
  /** Monitored synthetic input logs. */
  readonly authLog: string;
  readonly webLog: string;
  /** File the dummy action appends `+IP` / `-IP` lines to. */
  readonly dummyTarget: string;
  readonly jails: readonly SandboxJail[];
  readonly bantimeSec: number;
  /** PID of the running server, undefined while stopped. */
  readonly pid: number | undefined;
  /** fail2ban-client talking to THIS server only (own config dir and socket). Never rejects on exit codes. */
  client(...args: string[]): Promise<ClientResult>;
  /** `fail2ban-client banned` as jail → IDs (throws if the client fails). */
  banned(): Promise<Map<string, string[]>>;
  /** Appends `count` failure lines with the current time that the jail's filter matches for `ip`. */
  failures(jail: SandboxJail, ip: string, count: number): Promise<void>;
  start(): Promise<void>;
  /** Graceful `fail2ban-client stop` (logs the stop sequence), waits for the process to exit. */
  stop(): Promise<void>;
  /** stop() then start(): a new server PID that restores its bans from the sqlite db. */
  restart(): Promise<void>;
  /** `fail2ban-client reload`, resolves after `Reload finished.` */
  reload(): Promise<void>;
  /** Debian's logrotate way: rename logPath → logPath.1 (older ones shift), create, `flushlogs`. */
  rotate(opts?: RotateOptions): Promise<void>;
  /** Number of complete log lines written so far, rotated files included: a `since` for waitForLog. */
  logMark(): Promise<number>;
  /** Every complete line of fail2ban's log since the sandbox was created (rotated files first). */
  logLines(): Promise<string[]>;
  /** Waits for a log line matching `re` among the lines from index `since` (default 0) on. */
  waitForLog(re: RegExp, timeoutMs?: number, since?: number): Promise<string>;
  /** Stops the server (graceful, then SIGKILL) and removes the scratch dir. Idempotent. */
  close(): Promise<void>;
}

export interface Fail2banOptions {
  /** Jail bantime in seconds (default 10). */
  bantimeSec?: number;
  /** Per-jail bantime in seconds, overriding bantimeSec for that jail. */
  jailBantimeSec?: Partial<Record<SandboxJail, number>>;
  jails?: readonly SandboxJail[];
  /** `allowipv6 = auto` when true (default), `no` when false. */
  ipv6?: boolean;
  /** Filter backend of both jails (default polling; pyinotify is installed by .ci/install-deps.sh). */
  backend?: 'polling' | 'pyinotify';
  /**
   * Ban action of both jails (default dummy: a shell `printf` per ban and unban into dummyTarget).
   * noop runs no command at all: for thousands of bans, where a shell per ticket takes minutes.
   */
  /** `slow.py`: a Python action that waits 3 ms per ban, so a restore of N tickets lasts ≥ 3N ms anywhere. */
  banaction?: 'dummy' | 'noop' | 'slow.py';
  /**
   * `logtarget = SYSLOG` with `syslogsocket = socket` (a private rsyslog's imuxsock socket, see
   * test/helpers/rsyslog.ts) instead of a log file. `logFile` is where those lines end up readable
   * (e.g. the central rsyslog's file for this host): logPath, logLines() and waitForLog() read it,
   * so reload() waits for its line to arrive there. rotate() is not available.
   */
  syslog?: { socket: string; logFile: string };
}

const TEMPLATE_DIR = fileURLToPath(new URL('../fixtures/fail2ban-sandbox/', import.meta.url));
const TEMPLATE_FILES = [
  'fail2ban.local',
  'jail.local',
  'filter.d/webapp-auth.conf',
  'action.d/dummy.local',
  'action.d/noop.conf',
  'action.d/slow.py',
];
// Only the stock files the sandbox jails need; jail.d/ and fail2ban.d/ stay empty so a host's local
// overrides (e.g. Debian's defaults-debian.conf enabling the systemd backend) never leak in.
const STOCK_ENTRIES = ['fail2ban.conf', 'jail.conf', 'paths-common.conf', 'paths-debian.conf', 'filter.d', 'action.d'];
const STOCK_ETC = '/etc/fail2ban';

const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 20_000;
const CLIENT_TIMEOUT_MS = 30_000;
const POLL_MS = 100;

export function fail2banAvailable(): boolean {
  return spawnSync('fail2ban-server', ['--version'], { stdio: 'ignore' }).status === 0 && existsSync(join(STOCK_ETC, 'jail.conf'));
}

// Servers still alive when this process ends (a failed test, a crash) are killed here, and their
// scratch dirs removed; they would otherwise outlive the test run.
const live = new Map<ChildProcess, string>();
let hooksInstalled = false;

/**
 * Exit hooks cannot await: sleep on a futex until `pid` has died or the deadline passes. Our own
 * child stays a zombie (nobody reaps it while the exit hook runs), so "dead" is state Z, not ESRCH.
 */
function waitGoneSync(pid: number, ms: number): void {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  for (let waited = 0; waited < ms; waited += 20) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return;
    }
    if (/^\d+ \(.*\) [ZX]/s.test(stat)) return;
    Atomics.wait(cell, 0, 0, 20);
  }
}

function killAllLive(): void {
  for (const [child, dir] of live) {
    try {
      child.kill('SIGKILL');
      // SIGKILL is delivered asynchronously, and a server blocked in an fsync (a loaded machine) dies
      // late: removing the tree before it is gone races its last writes (ENOTEMPTY).
      if (child.pid !== undefined) waitGoneSync(child.pid, 10_000);
      rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
    } catch {
      // already gone
    }
  }
  live.clear();
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once('exit', killAllLive);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killAllLive();
      // Keep the default "die on signal" unless someone else handles it.
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    });
  }
}

// setpriv --pdeathsig makes the kernel signal the server if this process dies without running any
// hook (SIGKILL of a test worker); fail2ban shuts down cleanly on SIGTERM.
const useSetpriv = spawnSync('setpriv', ['--pdeathsig', 'TERM', 'true'], { stdio: 'ignore' }).status === 0;

export async function startFail2ban(opts: Fail2banOptions = {}): Promise<Fail2banSandbox> {
  installExitHooks();
  const jails = opts.jails ?? SANDBOX_JAILS;
  if (jails.length === 0) throw new Error('startFail2ban: at least one jail');
  const bantimeSec = opts.bantimeSec ?? 10;
  const dir = await mkdtemp(join(tmpdir(), 'f2b-sandbox-'));
  const sb = new Sandbox(dir, jails, bantimeSec, opts.syslog?.logFile);
  try {
    await sb.prepare({
      '@DIR@': dir,
      '@LOGTARGET@': opts.syslog ? 'SYSLOG' : join(dir, 'log', 'fail2ban.log'),
      '@SYSLOGSOCKET@': opts.syslog?.socket ?? 'auto',
      '@BANTIME@': String(bantimeSec),
      '@BANTIME_sshd@': String(opts.jailBantimeSec?.sshd ?? bantimeSec),
      '@BANTIME_webapp-auth@': String(opts.jailBantimeSec?.['webapp-auth'] ?? bantimeSec),
      '@BACKEND@': opts.backend ?? 'polling',
      '@BANACTION@': opts.banaction ?? 'dummy',
      '@ALLOWIPV6@': opts.ipv6 === false ? 'no' : 'auto',
      '@ENABLE_sshd@': String(jails.includes('sshd')),
      '@ENABLE_webapp-auth@': String(jails.includes('webapp-auth')),
    });
    await sb.start();
  } catch (err) {
    await sb.close();
    throw err;
  }
  return sb;
}

class Sandbox implements Fail2banSandbox {
  readonly etcDir: string;
  readonly socketPath: string;
  readonly pidFile: string;
  readonly dbPath: string;
  readonly logPath: string;
  readonly authLog: string;
  readonly webLog: string;
  readonly dummyTarget: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  /** How many rotate() renames happened: logPath.1 … logPath.N exist (N = oldest). */
  private rotatedCount = 0;
  private closed = false;

  constructor(
    readonly dir: string,
    readonly jails: readonly SandboxJail[],
    readonly bantimeSec: number,
    private readonly syslogFile?: string,
  ) {
    this.etcDir = join(dir, 'etc');
    this.socketPath = join(dir, 'run', 'fail2ban.sock');
    this.pidFile = join(dir, 'run', 'fail2ban.pid');
    this.dbPath = join(dir, 'lib', 'fail2ban.sqlite3');
    this.logPath = syslogFile ?? join(dir, 'log', 'fail2ban.log');
    this.authLog = join(dir, 'logs', 'auth.log');
    this.webLog = join(dir, 'logs', 'webapp.log');
    this.dummyTarget = join(dir, 'run', 'dummy-target.txt');
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async prepare(vars: Record<string, string>): Promise<void> {
    for (const sub of ['etc/jail.d', 'etc/fail2ban.d', 'log', 'logs', 'run', 'lib']) {
      await mkdir(join(this.dir, sub), { recursive: true });
    }
    for (const entry of STOCK_ENTRIES) {
      await cp(join(STOCK_ETC, entry), join(this.etcDir, entry), { recursive: true });
    }
    for (const rel of TEMPLATE_FILES) {
      let text = await readFile(join(TEMPLATE_DIR, rel), 'utf8');
      for (const [key, value] of Object.entries(vars)) text = text.replaceAll(key, value);
      const left = /@[A-Za-z_-]+@/.exec(text);
      if (left) throw new Error(`fail2ban sandbox template ${rel}: unreplaced ${left[0]}`);
      await writeFile(join(this.etcDir, rel), text);
    }
    // fail2ban refuses to start a jail whose log file is missing.
    await writeFile(this.authLog, '');
    await writeFile(this.webLog, '');
  }

  client(...args: string[]): Promise<ClientResult> {
    return runClient(['-c', this.etcDir, '-s', this.socketPath, ...args]);
  }

  async banned(): Promise<Map<string, string[]>> {
    const res = await this.client('banned');
    if (res.code !== 0) throw new Error(`fail2ban-client banned failed (${res.code}): ${res.stdout}${res.stderr}`);
    return bannedFromLiteral(parsePythonLiteral(res.stdout.trim()));
  }

  async failures(jail: SandboxJail, ip: string, count: number): Promise<void> {
    if (!this.jails.includes(jail)) throw new Error(`jail ${jail} is not enabled in this sandbox`);
    const lines: string[] = [];
    for (let i = 0; i < count; i++) lines.push(failureLine(jail, ip, new Date(), i));
    // One append per batch: the polling backend then sees all failures in the same pass.
    await appendFile(jail === 'sshd' ? this.authLog : this.webLog, lines.join(''));
  }

  async start(): Promise<void> {
    if (this.closed) throw new Error('fail2ban sandbox is closed');
    if (this.child) throw new Error('fail2ban sandbox server already running');
    const args = ['-c', this.etcDir, '-s', this.socketPath, '-p', this.pidFile, '-x', '-f', 'start'];
    const child = useSetpriv
      ? spawn('setpriv', ['--pdeathsig', 'TERM', 'fail2ban-server', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('fail2ban-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    live.set(child, this.dir);
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', () => {
        live.delete(child);
        if (this.child === child) this.child = undefined;
        resolve();
      });
    });
    // "Server ready" is the transmitter's answer to the end of the configuration stream: all jails
    // have been added and started by then.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error('timed out waiting for "Server ready"')), START_TIMEOUT_MS);
      const onData = (chunk: string): void => {
        stdout += chunk;
        if (stdout.includes('Server ready')) done();
      };
      const onErr = (chunk: string): void => {
        stderr += chunk;
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null): void =>
        fail(new Error(`exited before ready (code ${code}, signal ${signal})`));
      const cleanup = (): void => {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.removeListener('exit', onExit);
      };
      function done(): void {
        cleanup();
        resolve();
      }
      function fail(err: Error): void {
        cleanup();
        reject(new Error(`fail2ban-server ${err.message}\nstdout: ${stdout}\nstderr: ${stderr}`));
      }
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onErr);
      child.once('exit', onExit);
      child.once('error', (err) => fail(err));
    }).catch(async (err: unknown) => {
      await this.kill();
      throw err;
    });
    // Keep draining the pipes so the server never blocks on a full pipe.
    child.stdout?.resume();
    child.stderr?.resume();
  }

  async stop(): Promise<void> {
    if (!this.child) return;
    const res = await this.client('stop');
    if (res.code !== 0) {
      await this.kill();
      throw new Error(`fail2ban-client stop failed (${res.code}): ${res.stdout}${res.stderr}`);
    }
    if (!(await this.waitExit(STOP_TIMEOUT_MS))) {
      await this.kill();
      throw new Error('fail2ban-server did not exit after "stop"');
    }
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async reload(): Promise<void> {
    const since = await this.logMark();
    const res = await this.client('reload');
    if (res.code !== 0) throw new Error(`fail2ban-client reload failed (${res.code}): ${res.stdout}${res.stderr}`);
    await this.waitForLog(/ Reload finished\.$/, undefined, since);
  }

  async rotate(opts: RotateOptions = {}): Promise<void> {
    if (this.syslogFile !== undefined) throw new Error('rotate(): this sandbox logs to syslog, not to a file of its own');
    for (let n = this.rotatedCount; n >= 1; n--) await rename(`${this.logPath}.${n}`, `${this.logPath}.${n + 1}`);
    await rename(this.logPath, `${this.logPath}.1`);
    this.rotatedCount++;
    if (opts.create !== false) {
      await writeFile(this.logPath, '', { flag: 'wx' });
      await chmod(this.logPath, 0o640);
    }
    if (opts.beforeFlush) await opts.beforeFlush();
    const since = await this.logMark();
    const res = await this.client('flushlogs');
    if (res.code !== 0) throw new Error(`fail2ban-client flushlogs failed (${res.code}): ${res.stdout}${res.stderr}`);
    await this.waitForLog(/ rollover performed on /, undefined, since);
  }

  async logLines(): Promise<string[]> {
    const files: string[] = [];
    for (let n = this.rotatedCount; n >= 1; n--) files.push(`${this.logPath}.${n}`);
    files.push(this.logPath);
    const lines: string[] = [];
    for (const file of files) {
      const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return '';
        throw err;
      });
      // Only complete lines: the last one may still be being written.
      const end = text.lastIndexOf('\n');
      if (end >= 0) lines.push(...text.slice(0, end).split('\n'));
    }
    return lines;
  }

  async logMark(): Promise<number> {
    return (await this.logLines()).length;
  }

  async waitForLog(re: RegExp, timeoutMs = 15_000, since = 0): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lines = await this.logLines();
      const hit = lines.slice(since).find((l) => re.test(l));
      if (hit !== undefined) return hit;
      if (Date.now() > deadline) {
        const tail = lines.slice(-15).join('\n');
        throw new Error(`no fail2ban log line matching ${re} within ${timeoutMs} ms; last lines:\n${tail}`);
      }
      await delay(POLL_MS);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.child) {
      const res = await this.client('stop').catch(() => undefined);
      if (res?.code !== 0 || !(await this.waitExit(STOP_TIMEOUT_MS))) await this.kill();
    }
    await rm(this.dir, { recursive: true, force: true });
  }

  private async waitExit(timeoutMs: number): Promise<boolean> {
    if (!this.child) return true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const ok = await Promise.race([this.exited.then(() => true), timedOut]);
    clearTimeout(timer);
    return ok;
  }

  private async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill('SIGKILL');
    await this.exited;
  }
}

function runClient(args: string[]): Promise<ClientResult> {
  return new Promise((resolve, reject) => {
    execFile('fail2ban-client', args, { timeout: CLIENT_TIMEOUT_MS, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        reject(new Error(`fail2ban-client ${args.join(' ')}: ${err.message}`, { cause: err }));
        return;
      }
      resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
    });
  });
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number): string => String(n).padStart(2, '0');
// Debian's sshd filter ties lines to a session by `sshd[PID]` (its F-MLFID prefix) and remembers the
// session's host: a line whose PID was seen before with another address is counted for THAT address.
// Every synthetic line therefore gets a PID of its own.
let nextSshdPid = 4000;

// Local time on purpose: fail2ban reads these stamps in the server's (= this host's) zone, and ignores
// failures older than findtime.
function failureLine(jail: SandboxJail, ip: string, now: Date, i: number): string {
  const hms = `${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())}`;
  if (jail === 'sshd') {
    const day = String(now.getDate()).padStart(2, ' ');
    const month = MONTHS[now.getMonth()] ?? 'Jan';
    return `${month} ${day} ${hms} vm sshd[${nextSshdPid++}]: Failed password for root from ${ip} port ${50000 + i} ssh2\n`;
  }
  const ymd = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
  return `${ymd} ${hms} webapp[4242]: login failed for user=alice from ${ip}\n`;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

type PyValue = string | number | PyValue[] | Map<string, PyValue>;

/**
 * Minimal reader for the Python literals fail2ban-client prints (repr of lists, dicts, str, int).
 * Not JSON: single-quoted strings, and IDs may contain quotes or backslash escapes.
 */
export function parsePythonLiteral(text: string): PyValue {
  let pos = 0;
  const ws = (): void => {
    while (pos < text.length && /\s/.test(text[pos] ?? '')) pos++;
  };
  const fail = (what: string): never => {
    throw new Error(`python literal: ${what} at ${pos} in ${JSON.stringify(text)}`);
  };
  const expect = (ch: string): void => {
    ws();
    if (text[pos] !== ch) fail(`expected ${ch}`);
    pos++;
  };
  const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '0': '\0' };
  const str = (): string => {
    const quote = text[pos++];
    let out = '';
    for (;;) {
      const ch = text[pos++];
      if (ch === undefined) return fail('unterminated string');
      if (ch === quote) return out;
      if (ch !== '\\') {
        out += ch;
        continue;
      }
      const e = text[pos++] ?? '';
      if (e === 'x' || e === 'u' || e === 'U') {
        const len = e === 'x' ? 2 : e === 'u' ? 4 : 8;
        const hex = text.slice(pos, pos + len);
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) fail('bad escape');
        out += String.fromCodePoint(parseInt(hex, 16));
        pos += len;
      } else {
        out += escapes[e] ?? fail(`unknown escape \\${e}`);
      }
    }
  };
  const seq = <T>(close: string, item: () => T): T[] => {
    const items: T[] = [];
    ws();
    if (text[pos] === close) {
      pos++;
      return items;
    }
    for (;;) {
      items.push(item());
      ws();
      const ch = text[pos++];
      if (ch === close) return items;
      if (ch !== ',') fail(`expected , or ${close}`);
      ws();
      if (text[pos] === close) {
        pos++;
        return items;
      }
    }
  };
  const value = (): PyValue => {
    ws();
    const ch = text[pos];
    if (ch === "'" || ch === '"') return str();
    if (ch === '[') {
      pos++;
      return seq(']', value);
    }
    if (ch === '{') {
      pos++;
      return new Map(
        seq('}', () => {
          const k = value();
          if (typeof k !== 'string') fail('non-string dict key');
          expect(':');
          return [k as string, value()] as const;
        }),
      );
    }
    const num = /^-?\d+/.exec(text.slice(pos));
    if (num) {
      pos += num[0].length;
      return Number(num[0]);
    }
    return fail('unexpected token');
  };
  const v = value();
  ws();
  if (pos !== text.length) fail('trailing text');
  return v;
}

/** `[{'sshd': ['192.0.2.10']}, {'webapp-auth': []}]` → Map. */
function bannedFromLiteral(v: PyValue): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (!Array.isArray(v)) throw new Error('fail2ban-client banned: expected a list');
  for (const entry of v) {
    if (!(entry instanceof Map)) throw new Error('fail2ban-client banned: expected a list of dicts');
    for (const [jail, ids] of entry) {
      if (!Array.isArray(ids) || !ids.every((x) => typeof x === 'string')) {
        throw new Error(`fail2ban-client banned: IDs of ${jail} are not strings`);
      }
      out.set(jail, ids as string[]);
    }
  }
  return out;
}
