/**
 * End-to-end rig: Debian's real fail2ban (test/helpers/fail2ban.ts) writing its own log, the
 * sidecar's runtime (the code behind `run`) following that log in-process, and the HTTPS XG
 * emulator as the firewall. The runtime can be stopped and started again on the same state dir,
 * as a restarted service would be.
 *
 * The ground truth is `fail2ban-client banned`; the firewall side is read from the emulator's
 * object model (owned host members of each group, by IP family). Neither side is computed from
 * the sidecar's own state.
 */
import { Writable } from 'node:stream';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ipaddr from 'ipaddr.js';
import { parseConfig, type Config } from '../../src/config/index.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { startRuntime, type Runtime } from '../../src/app/runtime.js';
import { createLogger } from '../../src/util/log.js';
import { startFail2ban, type Fail2banOptions, type Fail2banSandbox, type SandboxJail } from '../helpers/fail2ban.js';

export const PREFIX = 'f2b_';
const PASSWORD = 'e2e-secret-pw';
const PASSWORD_ENV = 'F2B_E2E_XG_PASSWORD';

/** One IP host group pair per jail, as an admin mapping jails one to one would configure. */
export const JAIL_GROUPS: Readonly<Record<SandboxJail, { v4: string; v6: string }>> = {
  sshd: { v4: 'f2b_sshd', v6: 'f2b_sshd6' },
  'webapp-auth': { v4: 'f2b_webapp', v6: 'f2b_webapp6' },
};

/** jail → sorted addresses, per family. */
export type View = Record<SandboxJail, { v4: string[]; v6: string[] }>;

export interface SidecarTimings {
  batchWindowMs: number;
  stopUnbanWindowMs: number;
  restoreGraceMs: number;
}

export interface E2eOptions {
  fail2ban: Fail2banOptions;
  sidecar: SidecarTimings;
}

export interface LogRecord {
  level: number;
  msg: string;
  code?: string;
  [k: string]: unknown;
}

export interface E2e {
  sb: Fail2banSandbox;
  emu: Emulator;
  config: Config;
  readonly runtime: Runtime | undefined;
  /** The sidecar's own log records (JSON), across restarts. */
  readonly records: LogRecord[];
  startSidecar(): Promise<Runtime>;
  stopSidecar(): Promise<void>;
  /** fail2ban's view (`fail2ban-client banned`); a jail it no longer runs is taken from `assume`. */
  fail2banView(assume?: Partial<Record<SandboxJail, string[]>>): Promise<View>;
  firewallView(): View;
  /**
   * Polls until both views are equal (and, if given, `check` holds for them); throws with both
   * sets (and the tail of fail2ban's log) when the deadline passes.
   */
  converge(opts?: ConvergeOptions): Promise<View>;
  /** Resolves once the sidecar has persisted a checkpoint at or past the log's current end. */
  caughtUp(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface ConvergeOptions {
  timeoutMs?: number;
  assume?: Partial<Record<SandboxJail, string[]>>;
  /** Extra condition on the converged view (e.g. "this address is in"): kept polling until true. */
  check?: (v: View) => boolean;
  what?: string;
}

export async function startE2e(opts: E2eOptions): Promise<E2e> {
  const emu = await startEmulator({ users: { admin: PASSWORD } });
  const dir = await mkdtemp(join(tmpdir(), 'f2b-e2e-'));
  let sb: Fail2banSandbox | undefined;
  try {
    sb = await startFail2ban(opts.fail2ban);
    return new Rig(sb, emu, dir, makeConfig(sb, emu, dir, opts.sidecar));
  } catch (err) {
    await sb?.close();
    await emu.close();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

function makeConfig(sb: Fail2banSandbox, emu: Emulator, dir: string, t: SidecarTimings): Config {
  const groups = Object.entries(JAIL_GROUPS).map(
    ([jail, g]) => `  - { name: ${g.v4}, ipv6Name: ${g.v6}, firewall: xg, jails: [${JSON.stringify(jail)}] }`,
  );
  return parseConfig(
    [
      `log: { path: ${JSON.stringify(sb.logPath)}, startAt: beginning }`,
      `stateDir: ${JSON.stringify(join(dir, 'state'))}`,
      'firewalls:',
      '  xg:',
      `    url: ${emu.url}`,
      '    username: admin',
      `    passwordEnv: ${PASSWORD_ENV}`,
      `    tls: { fingerprint256: "${emu.fingerprint256}" }`,
      `    hostPrefix: ${PREFIX}`,
      'groups:',
      ...groups,
      `batch: { windowMs: ${t.batchWindowMs}, maxSize: 50 }`,
      `suspend: { stopUnbanWindowMs: ${t.stopUnbanWindowMs}, restoreGraceMs: ${t.restoreGraceMs}, maxSuspendMs: 600000 }`,
      'retry: { initialDelayMs: 200, maxDelayMs: 2000 }',
    ].join('\n'),
    '(e2e config)',
  );
}

const norm = (a: string): string => ipaddr.process(a).toString();
const sorted = (xs: Iterable<string>): string[] => [...xs].sort();

function emptyView(): View {
  return { sshd: { v4: [], v6: [] }, 'webapp-auth': { v4: [], v6: [] } };
}

function sameView(a: View, b: View): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

class Rig implements E2e {
  runtime: Runtime | undefined;
  readonly records: LogRecord[] = [];
  private partial = '';
  private readonly sink = new Writable({
    write: (chunk: Buffer | string, _enc, done) => {
      this.partial += chunk.toString();
      let nl: number;
      while ((nl = this.partial.indexOf('\n')) >= 0) {
        const line = this.partial.slice(0, nl);
        this.partial = this.partial.slice(nl + 1);
        if (line.trim()) this.records.push(JSON.parse(line) as LogRecord);
      }
      done();
    },
  });

  constructor(
    readonly sb: Fail2banSandbox,
    readonly emu: Emulator,
    private readonly dir: string,
    readonly config: Config,
  ) {}

  async startSidecar(): Promise<Runtime> {
    if (this.runtime) throw new Error('sidecar already running');
    const log = createLogger({ level: 'info', format: 'json', destination: this.sink, secrets: () => [PASSWORD] });
    this.runtime = await startRuntime({
      config: this.config,
      log,
      env: { [PASSWORD_ENV]: PASSWORD },
      onSecret: () => undefined,
      version: 'e2e',
      follow: true,
    });
    return this.runtime;
  }

  async stopSidecar(): Promise<void> {
    const rt = this.runtime;
    this.runtime = undefined;
    await rt?.stop();
  }

  async fail2banView(assume: Partial<Record<SandboxJail, string[]>> = {}): Promise<View> {
    const banned = await this.sb.banned();
    const view = emptyView();
    for (const jail of this.sb.jails) {
      const ids = banned.get(jail) ?? assume[jail] ?? [];
      for (const id of ids) {
        if (!ipaddr.isValid(id)) throw new Error(`fail2ban banned a non-address ID "${id}" in ${jail}: not expected here`);
        const a = norm(id);
        (ipaddr.IPv4.isValid(a) ? view[jail].v4 : view[jail].v6).push(a);
      }
      view[jail].v4.sort();
      view[jail].v6.sort();
    }
    return view;
  }

  firewallView(): View {
    const view = emptyView();
    for (const jail of this.sb.jails) {
      for (const fam of ['v4', 'v6'] as const) {
        const addrs: string[] = [];
        for (const name of this.emu.model.groupMembers(JAIL_GROUPS[jail][fam])) {
          if (!name.startsWith(PREFIX)) continue;
          const host = this.emu.model.hostByName(name);
          // Lists mode (run's default): an owned IPList holds many addresses.
          if (host?.hostType === 'IPList') {
            for (const a of (host.listOfIPAddresses ?? '').split(',')) if (a !== '') addrs.push(norm(a));
            continue;
          }
          if (host?.ipAddress === undefined) throw new Error(`owned member ${name} has no IPAddress: ${JSON.stringify(host)}`);
          addrs.push(norm(host.ipAddress));
        }
        view[jail][fam] = sorted(addrs);
      }
    }
    return view;
  }

  async converge(opts: ConvergeOptions = {}): Promise<View> {
    const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
    let f2b = emptyView();
    let fw = emptyView();
    for (;;) {
      f2b = await this.fail2banView(opts.assume);
      fw = this.firewallView();
      if (sameView(f2b, fw) && (opts.check?.(f2b) ?? true)) return f2b;
      if (Date.now() > deadline) break;
      await delay(200);
    }
    const tail = (await this.sb.logLines()).slice(-25).join('\n');
    throw new Error(
      `${opts.what ?? 'firewall'} did not converge on fail2ban's bans` +
        `${opts.check ? ' (or the extra check failed)' : ''}\n` +
        `fail2ban-client banned: ${JSON.stringify(f2b)}\nemulator groups:        ${JSON.stringify(fw)}\n` +
        `sidecar status: ${JSON.stringify(this.runtime?.status().groups)}\nfail2ban log tail:\n${tail}`,
    );
  }

  async caughtUp(timeoutMs = 15_000): Promise<void> {
    const st = await stat(this.sb.logPath);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const cp = this.runtime?.status().persist.checkpoint;
      if (cp && cp.ino === st.ino && cp.offset >= st.size) return;
      if (Date.now() > deadline) {
        throw new Error(
          `sidecar did not catch up with ${this.sb.logPath} (size ${st.size}, ino ${st.ino}): checkpoint ${JSON.stringify(cp)}`,
        );
      }
      await delay(100);
    }
  }

  async close(): Promise<void> {
    await this.stopSidecar().catch(() => undefined);
    await this.sb.close();
    await this.emu.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
