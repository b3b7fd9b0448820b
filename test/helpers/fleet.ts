// A whole fleet on one machine, for the fleet tests (issue 13): N fail2ban sandboxes ("hosts"), each
// logging (`logtarget = SYSLOG`) to its own private rsyslog, which forwards over TLS or RELP to one
// central rsyslog writing remote/HOST/fail2ban.log: what the sidecar follows with
// `log.path: <remoteDir>/*/fail2ban.log`. All configs come from contrib/rsyslog (see rsyslog.ts).
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fail2banAvailable, startFail2ban, type Fail2banOptions, type Fail2banSandbox, type SandboxJail } from './fail2ban.js';
import {
  CENTRAL_NAME,
  CONTRIB_DIR,
  certName,
  rsyslogAvailable,
  startCentral,
  startHostRsyslog,
  type CentralRsyslog,
  type HostRsyslog,
  type Transport,
} from './rsyslog.js';
import { makeTlsMaterial, opensslAvailable, type TlsMaterial } from './tls-material.js';

export type { Transport } from './rsyslog.js';

export interface FleetHost {
  readonly name: string;
  /** The real fail2ban: ban via `fail2ban.client('set', 'sshd', 'banip', ip)` or failures(); its logPath is the central file. */
  readonly fail2ban: Fail2banSandbox;
  readonly rsyslog: HostRsyslog;
  /** `fail2ban-client set JAIL banip IP…` on this host; throws unless it exits 0. */
  ban(jail: SandboxJail, ...ips: string[]): Promise<void>;
  /** `fail2ban-client set JAIL unbanip IP…` on this host; throws unless it exits 0. */
  unban(jail: SandboxJail, ...ips: string[]): Promise<void>;
}

export interface Fleet {
  /** Scratch root: tls/, central/, hosts/NAME/ (each fail2ban sandbox has a mkdtemp dir of its own). */
  readonly dir: string;
  readonly transport: Transport;
  readonly tls: TlsMaterial;
  readonly central: CentralRsyslog;
  readonly hosts: Readonly<Record<string, FleetHost>>;
  /** The sidecar's `log.path` for this fleet: `<central.remoteDir>/*∕fail2ban.log`. */
  readonly logGlob: string;
  /** hosts[name], or a throw naming the fleet's hosts. */
  host(name: string): FleetHost;
  /** Stops every fail2ban and rsyslog (fail2ban first, so its last lines are forwarded) and removes the scratch dirs. Idempotent. */
  stop(): Promise<void>;
}

export interface FleetOptions {
  hosts: readonly string[];
  transport: Transport;
  /** Scratch root (default: a new mkdtemp dir, removed by stop()). A given dir is left in place. */
  dir?: string;
  /** Options for every fail2ban sandbox (its syslog settings are the fleet's). */
  fail2ban?: Omit<Fail2banOptions, 'syslog'>;
  /** Host rsyslogs' action.resumeInterval (default 1 s, the snippets say 10). */
  resumeIntervalSec?: number;
}

/** Everything a fleet test needs is installed: fail2ban, openssl, rsyslogd and the transport's modules. */
export function fleetAvailable(transport: Transport): boolean {
  return fail2banAvailable() && opensslAvailable() && rsyslogAvailable(transport);
}

/** The `logtarget` the documented contrib/rsyslog/fail2ban.local sets (the sandboxes use the same). */
export function documentedLogtarget(): string {
  const m = /^\s*logtarget\s*=\s*(\S+)\s*$/m.exec(readFileSync(join(CONTRIB_DIR, 'fail2ban.local'), 'utf8'));
  if (!m?.[1]) throw new Error('contrib/rsyslog/fail2ban.local: no logtarget');
  return m[1];
}

export async function startFleet(opts: FleetOptions): Promise<Fleet> {
  if (documentedLogtarget() !== 'SYSLOG') throw new Error('contrib/rsyslog/fail2ban.local must set logtarget = SYSLOG');
  for (const h of opts.hosts) if (!/^[a-z][a-z0-9-]*$/.test(h)) throw new Error(`fleet host name ${JSON.stringify(h)}: [a-z][a-z0-9-]*`);
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'f2b-fleet-')));
  const parts: Array<{ stop(): Promise<void> }> = [];
  const hosts: Record<string, FleetHost> = {};
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    // Reverse order: fail2bans, then host rsyslogs, then the central one.
    for (const p of parts.reverse()) await p.stop().catch(() => undefined);
    if (ownDir) await rm(dir, { recursive: true, force: true });
  };
  try {
    const tls = await makeTlsMaterial(join(dir, 'tls'), [CENTRAL_NAME], opts.hosts.map(certName));
    const central = await startCentral({ dir: join(dir, 'central'), transport: opts.transport, tls, hosts: opts.hosts });
    parts.push(central);
    const rsyslogs = new Map<string, HostRsyslog>();
    for (const name of opts.hosts) {
      const rs = await startHostRsyslog({
        dir: join(dir, 'hosts', name),
        name,
        transport: opts.transport,
        tls,
        centralPort: central.port,
        resumeIntervalSec: opts.resumeIntervalSec ?? 1,
      });
      parts.push(rs);
      rsyslogs.set(name, rs);
    }
    // Two fail2ban servers start in parallel (each waits for "Server ready"); more would crowd a 2-core CI box.
    const names = [...opts.hosts];
    for (let i = 0; i < names.length; i += 2) {
      const batch = names.slice(i, i + 2);
      const started = await Promise.allSettled(
        batch.map((name) =>
          startFail2ban({
            ...opts.fail2ban,
            syslog: { socket: rsyslogs.get(name)?.socketPath ?? '', logFile: central.fileOf(name) },
          }),
        ),
      );
      started.forEach((r, k) => {
        const name = batch[k] ?? '';
        if (r.status === 'fulfilled') {
          parts.push({ stop: () => r.value.close() });
          const fail2ban = r.value;
          const set = async (jail: SandboxJail, verb: string, ips: string[]): Promise<void> => {
            const res = await fail2ban.client('set', jail, verb, ...ips);
            if (res.code !== 0)
              throw new Error(`${name}: fail2ban-client set ${jail} ${verb} failed (${res.code}): ${res.stdout}${res.stderr}`);
          };
          hosts[name] = {
            name,
            fail2ban,
            rsyslog: rsyslogs.get(name) as HostRsyslog,
            ban: (jail, ...ips) => set(jail, 'banip', ips),
            unban: (jail, ...ips) => set(jail, 'unbanip', ips),
          };
        }
      });
      const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    }
    const host = (name: string): FleetHost => {
      const h = hosts[name];
      if (!h) throw new Error(`no fleet host ${name} (hosts: ${Object.keys(hosts).join(', ')})`);
      return h;
    };
    return { dir, transport: opts.transport, tls, central, hosts, host, logGlob: join(central.remoteDir, '*', 'fail2ban.log'), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
