/**
 * `f2b-sophosxg plan`: what `run` would change on the firewall, read at once and written nowhere
 * (no state directory write, no lock: it runs beside the live sidecar). Exit 0 when nothing would
 * change, 4 when something would. The work is src/app/plan.ts; this file wires and prints.
 */
import type { Command } from 'commander';
import { loadConfig } from '../../config/index.js';
import { buildFirewalls, closeAll } from '../../app/firewalls.js';
import { buildPlan, formatPlan, planJson } from '../../app/plan.js';
import { planChanges } from '../../pipeline/plan.js';
import { DEFAULT_CONFIG, type CliDeps, type CommandModule } from '../deps.js';
import { commandLogger, type LogArgs } from '../logging.js';

export interface PlanArgs extends LogArgs {
  config: string;
  json?: boolean;
}

/** Something would change. */
export const EXIT_CHANGES = 4;

export async function run(args: PlanArgs, deps: CliDeps): Promise<number> {
  const config = await loadConfig(args.config);
  const { log, secrets } = commandLogger(config, deps, {
    logLevel: args.logLevel ?? 'warn',
    ...(args.logFormat ? { logFormat: args.logFormat } : {}),
  });
  const firewalls = await buildFirewalls(config, {
    env: deps.env,
    log: { debug: (m) => log.debug(m), info: (m) => log.info(m), warn: (m) => log.warn(m) },
    onSecret: (s) => secrets.push(s),
  });
  try {
    const ports = new Map([...firewalls].map(([k, b]) => [k, b.port]));
    const result = await buildPlan({ config, ports, log });
    const text = args.json ? [JSON.stringify(planJson(result))] : formatPlan(result, config.log.path);
    deps.stdout.write(`${text.join('\n')}\n`);
    return planChanges(result.groups) ? EXIT_CHANGES : 0;
  } finally {
    await closeAll(firewalls);
  }
}

export function register(program: Command, deps: CliDeps, invoke: (run: () => Promise<number>) => Promise<void>): void {
  program
    .command('plan')
    .description('read the log and the firewall, print what run would add and remove; writes nothing (exit 4: changes pending)')
    .option('-c, --config <file>', 'config file', DEFAULT_CONFIG)
    .option('--json', 'every address, as {"groups":[{firewall,group,family,add,remove,unchanged}]}')
    .option('--log-level <level>', 'debug | info | warn | error (default warn)')
    .option('--log-format <format>', 'text | json (overrides the config)')
    .action((opts: PlanArgs) => invoke(() => run(opts, deps)));
}

export const command: CommandModule = { register };
