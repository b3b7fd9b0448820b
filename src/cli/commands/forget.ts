/**
 * `f2b-sophosxg forget SOURCE -c CONFIG [--dry-run]` (issue 13 item 4): retire a fleet source — a
 * decommissioned host — lifting the bans only it holds. Works with the sidecar running (it applies
 * the request within seconds) or not (the request waits; the next start lifts them). The
 * work is src/app/forget.ts; this file checks the argument, wires and prints.
 */
import type { Command } from 'commander';
import { loadConfig } from '../../config/index.js';
import { forgetSource, type ForgetRun } from '../../app/forget.js';
import { SOURCE_NAME } from '../../core/source-name.js';
import { DEFAULT_CONFIG, UsageError, type CliDeps, type CommandModule } from '../deps.js';
import { commandLogger } from '../logging.js';

export interface ForgetArgs {
  config: string;
  source: string;
  dryRun?: boolean;
}

/** Longest wait for the running sidecar's answer (it polls every 2 s). */
export const ANSWER_WAIT_MS = 15_000;

/** Exit code: the source holds nothing (a typo?). */
export const EXIT_UNKNOWN = 3;

export async function run(args: ForgetArgs, deps: CliDeps): Promise<number> {
  // '' is the unnamed source (a single log's bans, e.g. before a host moved its log to syslog).
  if (!SOURCE_NAME.test(args.source))
    throw new UsageError(`invalid source name ${JSON.stringify(args.source)}: a host name or path segment (no '/', no spaces)`);
  const config = await loadConfig(args.config);
  const { log } = commandLogger(config, deps, { logLevel: 'warn' });
  const r = await forgetSource({
    config,
    source: args.source,
    dryRun: args.dryRun === true,
    now: () => Date.now(),
    waitMs: ANSWER_WAIT_MS,
    sleep: (ms) => new Promise((res) => setTimeout(res, ms)),
    log,
  });
  deps.stdout.write(`${describe(args.source, r).join('\n')}\n`);
  return r.outcome?.slots === 0 ? EXIT_UNKNOWN : 0;
}

function describe(source: string, r: ForgetRun): string[] {
  if (r.mode === 'live-pending')
    return [
      `forget ${source}: requested; the running sidecar did not answer within ${ANSWER_WAIT_MS / 1000} s`,
      'it applies the request when it next looks (or at its next start); see `f2b-sophosxg status`',
    ];
  const o = r.outcome;
  if (!o || o.slots === 0)
    return [
      `${source} holds no bans${r.known.length ? ` (sources holding bans: ${r.known.join(', ')})` : ' (no named source holds bans)'}`,
    ];
  const verb = r.mode === 'dry-run' ? 'would lift' : r.mode === 'next-start' ? 'will lift' : 'lifted';
  const head = `${source}: held ${o.slots} bans; ${verb} ${o.lifted.length} address${o.lifted.length === 1 ? '' : 'es'} no other source holds`;
  const where =
    r.mode === 'live'
      ? 'applied by the running sidecar: the firewall follows within its next pass'
      : r.mode === 'next-start'
        ? 'no sidecar runs: requested; its next start applies it (before that, nothing changes)'
        : 'dry run: nothing changed (beside a running sidecar this is its last saved state)';
  return [head, where, ...o.lifted.map((a) => `  ${a}`)];
}

export function register(program: Command, deps: CliDeps, invoke: (run: () => Promise<number>) => Promise<void>): void {
  program
    .command('forget')
    .description('retire a fleet source (a decommissioned host): lift the bans only it holds')
    .argument('<source>', "the source name status shows (what the glob's first * matched, or the syslog host); '' the unnamed one")
    .option('-c, --config <file>', 'config file', DEFAULT_CONFIG)
    .option('--dry-run', 'show what would be lifted; change nothing')
    .action((source: string, opts: { config: string; dryRun?: boolean }) => invoke(() => run({ ...opts, source }, deps)));
}

export const command: CommandModule = { register };
