/**
 * The original tool's one-shot commands, called by fail2ban once per event when a user prefers
 * an action (action.d/sophosxg.conf) over the sidecar: start, stop, check, flush, ban, unban.
 * They share the sidecar's config and firewall adapters; each prints one line and exits 0 on
 * success, non-zero with a one-line reason otherwise.
 */
import type { Command } from 'commander';
import { loadConfig, offlineWarnings } from '../../config/index.js';
import { jailMatches } from '../../core/glob.js';
import { normalizeAddress } from '../../core/address.js';
import { Router } from '../../pipeline/routing.js';
import { oneShotTargets } from '../../pipeline/targets.js';
import { describeEnforcement, groupEnforcement } from '../../pipeline/enforcement.js';
import { buildFirewalls, closeAll, type BuiltFirewall } from '../../app/firewalls.js';
import { firewallAddresses, floorOf } from '../../app/pipeline.js';
import { secretMasker } from '../../util/mask.js';
import type { XgLogger } from '../../xg/log.js';
import type { FirewallRuleView, GroupRef } from '../../xg/port.js';
import { DEFAULT_CONFIG, UsageError, type CliDeps, type CommandModule } from '../deps.js';

export type OneShotAction = 'start' | 'stop' | 'check' | 'flush' | 'ban' | 'unban';

export interface OneShotArgs {
  action: OneShotAction;
  config: string;
  ip?: string;
  jail?: string;
  /** check only: validate the config and credentials source without contacting any firewall. */
  offline?: boolean;
  /** check only: groups, not the rules that drop them (fail2ban's actioncheck: a ban must not fail for want of a rule). */
  groupsOnly?: boolean;
}

interface Target {
  fw: BuiltFirewall;
  ref: GroupRef;
}

export async function run(args: OneShotArgs, deps: CliDeps): Promise<number> {
  const config = await loadConfig(args.config);
  const out = (line: string) => deps.stdout.write(`${line}\n`);
  const secrets: string[] = [];
  const mask = (s: string) => secretMasker(...secrets)(s);
  const log: XgLogger = {
    debug() {},
    info() {},
    warn: (m) => deps.stderr.write(`warning: ${mask(m)}\n`),
  };

  let address: { ip: string; family: 'IPv4' | 'IPv6' } | undefined;
  if (args.action === 'ban' || args.action === 'unban') {
    if (!args.ip) throw new UsageError(`${args.action} needs --ip ADDRESS`);
    address = normalizeAddress(args.ip);
    if (!address) throw new UsageError(`--ip ${JSON.stringify(args.ip)} is not an IPv4/IPv6 address or network`);
  }

  // The sidecar's own routing and never-block rule (src/pipeline/targets.ts). A refused ban and a
  // skipped address exit 0: fail2ban would otherwise log an error each time.
  const floor =
    args.action === 'ban'
      ? floorOf(config, await firewallAddresses(config, { warn: (_o, m) => deps.stderr.write(`warning: ${m}\n`) }))
      : () => false;
  const route = oneShotTargets(new Router(config.groups, jailMatches), floor, {
    ...(args.jail !== undefined ? { jail: args.jail } : {}),
    ...(address ? { address } : {}),
    ban: args.action === 'ban',
  });
  if (route.kind === 'never-block' && address) {
    const never = route.reason === 'never-block' || route.reason === 'never-block-embedded';
    deps.stderr.write(
      never
        ? `warning: ban ignored: ${address.ip} is in neverBlock\n`
        : `warning: ban refused: ${address.ip}: ${route.reason} (${route.detail})\n`,
    );
    return 0;
  }
  if (route.kind === 'no-family-group' && address) {
    const scope = args.jail !== undefined ? `jail ${args.jail}` : 'any group';
    deps.stderr.write(`warning: ${args.action} of ${address.ip} skipped: no ${address.family} group (ipv6Name) for ${scope}\n`);
    return 0;
  }
  if (route.kind !== 'targets') {
    throw new Error(
      args.jail !== undefined
        ? `no group in ${args.config} is fed by jail ${JSON.stringify(args.jail)}${address ? ` for ${address.family}` : ''}`
        : `no group configured in ${args.config}`,
    );
  }
  const refs = route.targets.map((t) => ({ firewall: t.firewall, ref: t.group }));

  if (args.action === 'check' && args.offline) {
    for (const w of await offlineWarnings(config, deps.env)) deps.stderr.write(`warning: ${w}\n`);
    const fws = new Set(refs.map((r) => r.firewall));
    out(`config ${args.config} is valid: ${fws.size} firewall(s), ${refs.length} group(s)`);
    return 0;
  }

  const firewalls = await buildFirewalls(config, {
    env: deps.env,
    log,
    onSecret: (s) => secrets.push(s),
    only: new Set(refs.map((r) => r.firewall)),
  });
  try {
    const targets: Target[] = refs.map((r) => ({ fw: firewalls.get(r.firewall) as BuiltFirewall, ref: r.ref }));
    switch (args.action) {
      case 'start':
        for (const t of targets) {
          await t.fw.port.ensureGroup(t.ref);
          out(`group ${t.ref.name} (${t.ref.family}) on ${t.fw.name} is ready`);
        }
        return 0;
      case 'stop':
        // The group stays: the firewall rule that drops it must keep a valid reference.
        out(`nothing to do: groups stay on the firewall`);
        return 0;
      case 'check':
        return await check(targets, out, !args.groupsOnly);
      case 'flush':
        for (const t of targets) {
          const state = await t.fw.port.readGroup(t.ref);
          if (state.owned.size > 0) await t.fw.port.removeFromGroup(t.ref, [...state.owned]);
          out(
            `group ${t.ref.name} on ${t.fw.name}: removed ${state.owned.size} owned host(s), ${state.foreign} other member(s) left alone`,
          );
        }
        return 0;
      case 'ban':
      case 'unban': {
        const ip = (address as { ip: string }).ip;
        for (const t of targets) {
          if (args.action === 'ban') {
            await t.fw.port.ensureGroup(t.ref);
            await t.fw.port.addToGroup(t.ref, [ip]);
          } else {
            await t.fw.port.removeFromGroup(t.ref, [ip]);
          }
          out(`${args.action === 'ban' ? 'banned' : 'unbanned'} ${ip} in group ${t.ref.name} on ${t.fw.name}`);
        }
        return 0;
      }
    }
  } catch (err) {
    if (err instanceof Error) err.message = mask(err.message);
    throw err;
  } finally {
    await closeAll(firewalls);
  }
}

async function check(targets: Target[], out: (line: string) => void, withRules: boolean): Promise<number> {
  const logins = new Set<BuiltFirewall>(targets.map((t) => t.fw));
  for (const fw of logins) {
    await fw.port.checkLogin();
    out(`firewall ${fw.name}: login ok`);
  }
  let missing = 0;
  const rules = new Map<BuiltFirewall, FirewallRuleView[]>();
  if (withRules) for (const fw of logins) rules.set(fw, await fw.port.readRules());
  for (const t of targets) {
    const state = await t.fw.port.readGroup(t.ref);
    if (!state.exists) missing++;
    out(
      state.exists
        ? `group ${t.ref.name} (${t.ref.family}) on ${t.fw.name}: exists, ${state.owned.size} owned member(s), ${state.foreign} other member(s)`
        : `group ${t.ref.name} (${t.ref.family}) on ${t.fw.name}: MISSING (run 'f2b-sophosxg start' or the sidecar to create it)`,
    );
    if (state.exists) await reportLists(t, out);
    // A group no enabled Drop/Reject rule uses as a source makes every ban a no-op: as bad as a missing one.
    if (!withRules) continue;
    const e = groupEnforcement(rules.get(t.fw) ?? [], t.ref.name);
    if (!e.enforced) missing++;
    out(`group ${t.ref.name} on ${t.fw.name}: ${describeEnforcement(e)}`);
  }
  return missing === 0 ? 0 : 3;
}

/** Lists mode (issue 12): the group's owned IPList hosts and addresses per list; nothing when it has none. */
async function reportLists(t: Target, out: (line: string) => void): Promise<void> {
  const lists = await t.fw.port.readLists(t.ref).catch((err: unknown) => {
    if ((err as { code?: string }).code === 'XG_UNSUPPORTED') return [];
    throw err;
  });
  const sizes = lists.filter((l) => l.member).map((l) => l.addresses.length);
  if (sizes.length === 0) return;
  const total = sizes.reduce((a, b) => a + b, 0);
  out(
    `  ${sizes.length} owned list(s) in the group holding ${total} address(es), max ${Math.max(...sizes)} / mean ${Math.round(total / sizes.length)} per list`,
  );
}

export const command: CommandModule = {
  register(program: Command, deps: CliDeps, invoke) {
    const actions: [OneShotAction, string][] = [
      ['start', 'create the configured groups on the firewall when missing'],
      ['stop', 'do nothing: the groups stay on the firewall (firewall rules use them)'],
      ['check', 'validate the config, log in, report every group, its owned members and the rules that drop it'],
      ['flush', 'remove every host this tool added to the groups, then delete those hosts'],
      ['ban', 'add one address to the groups (fail2ban action: actionban)'],
      ['unban', 'remove one address from the groups and delete its host (actionunban)'],
    ];
    for (const [action, description] of actions) {
      const cmd = program
        .command(action)
        .description(description)
        .option('-c, --config <file>', 'config file', DEFAULT_CONFIG)
        .option('-j, --jail <name>', 'only the groups this jail feeds');
      if (action === 'ban' || action === 'unban') cmd.requiredOption('--ip <address>', 'IPv4/IPv6 address or network');
      if (action === 'check') {
        cmd.option('--offline', 'validate the config only; contact no firewall');
        cmd.option('--groups-only', 'check the groups, not the firewall rules that drop them (the fail2ban action uses this)');
      }
      cmd.action((opts: { config: string; jail?: string; ip?: string; offline?: boolean; groupsOnly?: boolean }) =>
        invoke(() => run({ action, ...opts }, deps)),
      );
    }
  },
};

export const { register } = command;
