// Private rsyslogd instances for the fleet tests: a "host" rsyslog that receives fail2ban's messages
// on its own imuxsock socket and forwards them, and a "central" rsyslog that receives them on a
// loopback port and writes one file per host. Their configs are the README's snippets
// (contrib/rsyslog/*), loaded and substituted here, so what is documented is what is tested.
// Never the system /dev/log, /etc/rsyslog.conf, /var/log or /run/rsyslogd.pid: every path lives in
// the caller's scratch dir, and loadSnippet() refuses a config that still names a system path.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './net.js';
import type { TlsMaterial } from './tls-material.js';

export type Transport = 'tls' | 'relp';

export const RSYSLOGD = '/usr/sbin/rsyslogd';
export const CONTRIB_DIR = fileURLToPath(new URL('../../contrib/rsyslog/', import.meta.url));
/** The DNS-style name a fleet host `web1` has in certificates and permittedPeer lists. */
export const certName = (host: string): string => `${host}.example.org`;
export const CENTRAL_NAME = 'central.example.org';

const FORWARD_SNIPPET: Record<Transport, string> = { tls: 'fail2ban-forward-tls.conf', relp: 'fail2ban-forward-relp.conf' };
const CENTRAL_SNIPPET: Record<Transport, string> = { tls: 'central-tls.conf', relp: 'central-relp.conf' };
const DOC_PORT: Record<Transport, string> = { tls: '6514', relp: '2514' };
const MODULES: Record<Transport, string[]> = {
  tls: ['imtcp.so', 'lmnsd_gtls.so', 'imuxsock.so'],
  relp: ['imrelp.so', 'omrelp.so', 'imuxsock.so'],
};

const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 20_000;
const POLL_MS = 50;

function moduleDirs(): string[] {
  const dirs = ['/usr/lib/rsyslog'];
  try {
    for (const e of readdirSync('/usr/lib')) if (existsSync(join('/usr/lib', e, 'rsyslog'))) dirs.push(join('/usr/lib', e, 'rsyslog'));
  } catch {
    // no /usr/lib
  }
  return dirs;
}

/** rsyslogd and the modules `transport` needs (Debian: rsyslog + rsyslog-gnutls, or + rsyslog-relp). */
export function rsyslogAvailable(transport: Transport): boolean {
  if (spawnSync(RSYSLOGD, ['-v'], { stdio: 'ignore' }).status !== 0) return false;
  const dirs = moduleDirs();
  return MODULES[transport].every((m) => dirs.some((d) => existsSync(join(d, m))));
}

/**
 * A contrib/rsyslog file with literal substitutions. Each `from` must occur (a snippet that no
 * longer says what the test replaces fails loudly), and no non-comment line may still name a system
 * path afterwards.
 */
export function loadSnippet(file: string, subs: ReadonlyArray<readonly [string, string]>): string {
  let text = readFileSync(join(CONTRIB_DIR, file), 'utf8');
  for (const [from, to] of subs) {
    if (!text.includes(from)) throw new Error(`contrib/rsyslog/${file}: expected to find ${JSON.stringify(from)}`);
    text = text.replaceAll(from, to);
  }
  for (const line of text.split('\n')) {
    if (/^\s*#/.test(line)) continue;
    if (/(^|["\s=])\/(etc|var|run|usr|dev)\//.test(line)) {
      throw new Error(`contrib/rsyslog/${file}: system path left after substitution: ${line.trim()}`);
    }
  }
  return text;
}

/** Is something listening on 127.0.0.1:port (from /proc/net/tcp, so no connection is made)? */
function listening(port: number): boolean {
  const hex = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  try {
    return readFileSync('/proc/net/tcp', 'utf8')
      .split('\n')
      .some((l) => {
        const f = l.trim().split(/\s+/);
        return f[1] === hex && f[3] === '0A';
      });
  } catch {
    return false;
  }
}

const live = new Set<ChildProcess>();
let hooksInstalled = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
    live.clear();
  });
}

// As for fail2ban: the kernel sends SIGTERM to rsyslogd if the test worker dies without its hooks.
const useSetpriv = spawnSync('setpriv', ['--pdeathsig', 'TERM', 'true'], { stdio: 'ignore' }).status === 0;

/** One private rsyslogd: its config, pid file and stderr live in `dir`. */
export class Rsyslogd {
  readonly confPath: string;
  readonly pidFile: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private output = '';

  constructor(
    readonly name: string,
    readonly dir: string,
    private readonly ready: () => boolean,
    private readonly beforeStart: () => Promise<void> = async () => {},
  ) {
    this.confPath = join(dir, 'rsyslog.conf');
    this.pidFile = join(dir, 'rsyslogd.pid');
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** What rsyslogd printed on stdout/stderr since it was last started (its startup errors). */
  get stderr(): string {
    return this.output;
  }

  async start(): Promise<void> {
    if (this.child) throw new Error(`rsyslogd ${this.name} already running`);
    await this.beforeStart();
    installExitHooks();
    const args = ['-n', '-f', this.confPath, '-i', this.pidFile];
    const child = useSetpriv
      ? spawn('setpriv', ['--pdeathsig', 'TERM', RSYSLOGD, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: this.dir })
      : spawn(RSYSLOGD, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: this.dir });
    this.child = child;
    live.add(child);
    this.output = '';
    child.stdout?.setEncoding('utf8').on('data', (c: string) => (this.output += c));
    child.stderr?.setEncoding('utf8').on('data', (c: string) => (this.output += c));
    this.exited = new Promise((resolve) => {
      child.once('exit', () => {
        live.delete(child);
        if (this.child === child) this.child = undefined;
        resolve();
      });
    });
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!this.ready()) {
      if (this.child !== child) throw new Error(`rsyslogd ${this.name} exited at start:\n${this.output}`);
      if (Date.now() > deadline) {
        await this.kill();
        throw new Error(`rsyslogd ${this.name} not ready within ${START_TIMEOUT_MS} ms:\n${this.output}`);
      }
      await delay(POLL_MS);
    }
  }

  /** SIGTERM (rsyslog saves its disk-assisted queues), waits for the exit; SIGKILL after 20 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await this.exited;
    clearTimeout(timer);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** SIGHUP: rsyslog closes its output files (dynaFiles included) and reopens them at the next line. */
  hup(): void {
    if (!this.child) throw new Error(`rsyslogd ${this.name} is not running`);
    this.child.kill('SIGHUP');
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill('SIGKILL');
    await this.exited;
  }
}

export interface CentralOptions {
  dir: string;
  transport: Transport;
  tls: TlsMaterial;
  /** Host names (`web1`) whose certificates (certName(host)) are let in. */
  hosts: readonly string[];
  /** Loopback port to listen on (default: a free one). */
  port?: number;
}

export interface CentralRsyslog extends Rsyslogd {
  readonly port: number;
  /** The /var/log/remote of the snippets. */
  readonly remoteDir: string;
  /** /var/log/remote/HOST/fail2ban.log. */
  fileOf(host: string): string;
  /** Complete lines of fileOf(host) (plus its rotated siblings fail2ban.log.N, oldest first, when `rotated`). */
  lines(host: string, rotated?: boolean): Promise<string[]>;
  /** Waits until lines(host, rotated) satisfies `done`; returns them. */
  waitFor(host: string, done: (lines: string[]) => boolean, timeoutMs?: number, rotated?: boolean): Promise<string[]>;
}

export async function startCentral(opts: CentralOptions): Promise<CentralRsyslog> {
  const port = opts.port ?? (await freePort());
  await mkdir(join(opts.dir, 'spool'), { recursive: true });
  const remoteDir = join(opts.dir, 'remote');
  const peers = `[${opts.hosts.map((h) => `"${certName(h)}"`).join(', ')}]`;
  const tlsPaths: Array<[string, string]> = [
    ['/etc/rsyslog-tls/ca.pem', opts.tls.caFile],
    ['/etc/rsyslog-tls/central.pem', opts.tls.of(CENTRAL_NAME).cert],
    ['/etc/rsyslog-tls/central.key', opts.tls.of(CENTRAL_NAME).key],
  ];
  const conf = [
    `global(workDirectory="${join(opts.dir, 'spool')}")`,
    loadSnippet('central-files.conf', [['/var/log/remote/', `${remoteDir}/`]]),
    loadSnippet(CENTRAL_SNIPPET[opts.transport], [
      [`port="${DOC_PORT[opts.transport]}"`, `port="${port}" address="127.0.0.1"`],
      ['["web1.example.org", "web2.example.org"]', peers],
      ...tlsPaths,
    ]),
    "# Test only: the default ruleset (rsyslogd's own messages) goes to a file in the scratch dir.",
    `action(type="omfile" file="${join(opts.dir, 'rsyslogd.log')}")`,
    '',
  ].join('\n');
  await writeFile(join(opts.dir, 'rsyslog.conf'), conf);
  const rs = new Rsyslogd('central', opts.dir, () => listening(port)) as Rsyslogd & Record<string, unknown>;
  const fileOf = (host: string): string => join(remoteDir, host, 'fail2ban.log');
  const lines = async (host: string, rotated = false): Promise<string[]> => {
    const files = [fileOf(host)];
    if (rotated) {
      const names = await readdir(join(remoteDir, host)).catch(() => [] as string[]);
      const olds = names
        .map((n) => /^fail2ban\.log\.(\d+)$/.exec(n))
        .filter((m): m is RegExpExecArray => m !== null)
        .sort((a, b) => Number(b[1]) - Number(a[1]))
        .map((m) => join(remoteDir, host, m[0]));
      files.unshift(...olds);
    }
    const out: string[] = [];
    for (const f of files) out.push(...completeLines(await readFile(f, 'utf8').catch(() => '')));
    return out;
  };
  const central = Object.assign(rs, {
    port,
    remoteDir,
    fileOf,
    lines,
    async waitFor(host: string, done: (l: string[]) => boolean, timeoutMs = 20_000, rotated = false): Promise<string[]> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const got = await lines(host, rotated);
        if (done(got)) return got;
        if (Date.now() > deadline) {
          throw new Error(
            `central ${host}: condition not met within ${timeoutMs} ms; ${got.length} lines, last:\n${got.slice(-5).join('\n')}\n${rs.stderr}`,
          );
        }
        await delay(100);
      }
    },
  }) as unknown as CentralRsyslog;
  await central.start();
  return central;
}

export interface HostOptions {
  dir: string;
  /** The host's name (global localHostname): the HOSTNAME field of its lines, its central file's directory. */
  name: string;
  transport: Transport;
  tls: TlsMaterial;
  centralPort: number;
  /**
   * action.resumeInterval in seconds (the snippet says 10): how soon a suspended forward retries
   * once the central host is back. Tests use 1 to stay short; nothing else is changed.
   */
  resumeIntervalSec?: number;
}

export interface HostRsyslog extends Rsyslogd {
  /** The imuxsock socket fail2ban logs to (its syslogsocket). */
  readonly socketPath: string;
  /** Where this rsyslog writes what the forward snippet did not `stop` (the local files of a real host). */
  readonly localLog: string;
  /** workDirectory: the disk-assisted queue's files (fwd_fail2ban*) appear here during an outage. */
  readonly spoolDir: string;
  spoolFiles(): Promise<string[]>;
}

export async function startHostRsyslog(opts: HostOptions): Promise<HostRsyslog> {
  const spoolDir = join(opts.dir, 'spool');
  await mkdir(spoolDir, { recursive: true });
  const socketPath = join(opts.dir, 'log.sock');
  const localLog = join(opts.dir, 'local.log');
  const conf = [
    `global(workDirectory="${spoolDir}" localHostname="${opts.name}")`,
    '# A socket of its own instead of the system /dev/log; no imklog.',
    'module(load="imuxsock" SysSock.Use="off")',
    `input(type="imuxsock" Socket="${socketPath}")`,
    loadSnippet(FORWARD_SNIPPET[opts.transport], [
      ['target="central.example.org"', 'target="127.0.0.1"'],
      [`port="${DOC_PORT[opts.transport]}"`, `port="${opts.centralPort}"`],
      ['action.resumeInterval="10"', `action.resumeInterval="${opts.resumeIntervalSec ?? 10}"`],
      ['/etc/rsyslog-tls/ca.pem', opts.tls.caFile],
      ['/etc/rsyslog-tls/host.pem', opts.tls.of(certName(opts.name)).cert],
      ['/etc/rsyslog-tls/host.key', opts.tls.of(certName(opts.name)).key],
    ]),
    '# Test only: what a real host would write to /var/log/syslog.',
    `action(type="omfile" file="${localLog}")`,
    '',
  ].join('\n');
  await writeFile(join(opts.dir, 'rsyslog.conf'), conf);
  // A stale socket from the previous run would pass the readiness check before rsyslog re-creates it.
  const rs = new Rsyslogd(
    opts.name,
    opts.dir,
    () => existsSync(socketPath),
    () => rm(socketPath, { force: true }),
  );
  const host = Object.assign(rs, {
    socketPath,
    localLog,
    spoolDir,
    async spoolFiles(): Promise<string[]> {
      return (await readdir(spoolDir)).filter((n) => n.startsWith('fwd_fail2ban'));
    },
  }) as unknown as HostRsyslog;
  await host.start();
  return host;
}

function completeLines(text: string): string[] {
  const end = text.lastIndexOf('\n');
  return end < 0 ? [] : text.slice(0, end).split('\n');
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
