/**
 * Where the firewall adapters are wired: one undici Agent (keep-alive pool, TLS trust) and one
 * XgClient per configured firewall, optionally wrapped by the dry-run printer. Nothing else in
 * the program builds transports.
 */
import type { Agent } from 'undici';
import type { Config } from '../config/index.js';
import { resolvePassword } from '../config/index.js';
import { XgClient } from '../xg/client.js';
import { DryRunPort } from '../xg/dry-run.js';
import type { XgLogger } from '../xg/log.js';
import type { FirewallPort, GroupRef } from '../xg/port.js';
import { buildDispatcher } from '../xg/tls.js';
import { ReloadingPort } from './credentials.js';

export interface BuiltFirewall {
  name: string;
  port: FirewallPort;
  hostPrefix: string;
  close(): Promise<void>;
}

export interface BuildFirewallsOptions {
  env: NodeJS.ProcessEnv;
  log: XgLogger;
  /** Print writes instead of doing them. */
  dryRun?: { print: (line: string) => void };
  /** Passwords are reported here as soon as they are read, so the logger can scrub them. */
  onSecret?: (secret: string) => void;
  /** Only these firewalls (default: all). */
  only?: ReadonlySet<string>;
}

export async function buildFirewalls(config: Config, opts: BuildFirewallsOptions): Promise<Map<string, BuiltFirewall>> {
  const built = new Map<string, BuiltFirewall>();
  const fromEnv = new Set<string>();
  try {
    for (const [name, fw] of Object.entries(config.firewalls)) {
      if (opts.only && !opts.only.has(name)) continue;
      const password = await resolvePassword(fw, opts.env);
      opts.onSecret?.(password);
      if (fw.passwordEnv !== undefined) fromEnv.add(fw.passwordEnv);
      const dispatcher: Agent = buildDispatcher(
        {
          caFile: fw.tls?.caFile,
          fingerprint256: fw.tls?.fingerprint256,
          insecure: fw.tls?.insecure,
          connectTimeoutMs: fw.connectTimeoutMs,
        },
        opts.log,
      );
      const build = (pw: string): XgClient =>
        new XgClient({
          url: fw.url,
          username: fw.username,
          password: pw,
          hostPrefix: fw.hostPrefix,
          dispatcher,
          batchSize: fw.batchSize,
          requestTimeoutMs: fw.requestTimeoutMs,
          apiVersion: fw.apiVersion,
          log: opts.log,
        });
      // A password fixed in its file is picked up at the next retry, without a restart. The
      // environment of a running process never changes: its value is the one read now.
      const reread = fw.passwordEnv !== undefined ? () => Promise.resolve(password) : () => resolvePassword(fw, opts.env);
      const client = new ReloadingPort({ password, build, reread, onSecret: opts.onSecret, log: opts.log });
      const port: FirewallPort = opts.dryRun ? new DryRunPort(client, { print: opts.dryRun.print, hostPrefix: fw.hostPrefix }) : client;
      built.set(name, {
        name,
        port,
        hostPrefix: fw.hostPrefix,
        close: async () => {
          await client.close();
          await dispatcher.close();
        },
      });
    }
  } catch (err) {
    await closeAll(built);
    throw err;
  }
  // Once read, out of the process environment: child processes (fail2ban-client for the seed) do
  // not inherit it and nothing that prints process.env shows it. (/proc/PID/environ keeps the
  // initial block; a passwordFile or a systemd credential avoids even that.)
  if (opts.env === process.env) for (const v of fromEnv) delete process.env[v];
  return built;
}

export async function closeAll(built: Map<string, BuiltFirewall>): Promise<void> {
  await Promise.allSettled([...built.values()].map((b) => b.close()));
}

/** The groups of the config as the firewall sees them: one GroupRef per family that has a name. */
export function groupRefs(
  config: Config,
  jail?: string,
  matches?: (patterns: string[], jail: string) => boolean,
): { firewall: string; ref: GroupRef }[] {
  const out: { firewall: string; ref: GroupRef }[] = [];
  for (const g of config.groups) {
    if (jail !== undefined && matches && !matches(g.jails, jail)) continue;
    out.push({ firewall: g.firewall, ref: { name: g.name, family: 'IPv4' } });
    if (g.ipv6Name) out.push({ firewall: g.firewall, ref: { name: g.ipv6Name, family: 'IPv6' } });
  }
  return out;
}
