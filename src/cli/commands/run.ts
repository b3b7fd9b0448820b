/**
 * `f2b-sophosxg run`: the sidecar. Follows fail2ban's log and keeps the configured groups in sync
 * until SIGINT/SIGTERM; `--dry-run` reads the firewall but prints every write instead of doing it.
 */
import type { Command } from 'commander';
import { setFlagsFromString } from 'node:v8';
import { loadConfig } from '../../config/index.js';
import { startRuntime } from '../../app/runtime.js';
import { DEFAULT_CONFIG, version, type CliDeps, type CommandModule } from '../deps.js';
import { commandLogger, type LogArgs } from '../logging.js';

export interface RunArgs extends LogArgs {
  config: string;
  dryRun?: boolean;
}

export async function run(args: RunArgs, deps: CliDeps): Promise<number> {
  const config = await loadConfig(args.config);
  const { log, secrets } = commandLogger(config, deps, args);
  const runtime = await startRuntime({
    config,
    log,
    env: deps.env,
    onSecret: (s) => secrets.push(s),
    dryRun: args.dryRun ? { print: (line) => deps.stdout.write(`${line}\n`) } : undefined,
    version: version(),
    follow: true,
  });
  await new Promise<void>((resolve) => {
    if (deps.signal.aborted) resolve();
    else deps.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  log.info({}, 'stopping: saving state');
  await runtime.stop();
  log.info({}, 'stopped');
  return 0;
}

export function register(program: Command, deps: CliDeps, invoke: (run: () => Promise<number>) => Promise<void>): void {
  program
    .command('run')
    .description('follow the fail2ban log and keep the firewall groups in sync (the sidecar)')
    .option('-c, --config <file>', 'config file', DEFAULT_CONFIG)
    .option('--dry-run', 'read the firewall, print every write instead of doing it')
    .option('--log-level <level>', 'debug | info | warn | error (overrides the config)')
    .option('--log-format <format>', 'text | json (overrides the config)')
    .action((opts: RunArgs) => {
      preferSmallHeap();
      return invoke(() => run(opts, deps));
    });
}

/**
 * The sidecar is a long-lived, mostly idle process: V8's size-over-speed heuristics suit it. At
 * 100,000 addresses they take the start-up peak (log catch-up plus the group read back) from
 * ~420 to ~240 MB and the steady state from ~145 to ~138 MB, for a slower catch-up (12 → 18 s;
 * bench/RESULTS.md). Set here rather than as a node option because systemd runs the `bin` shim,
 * and NODE_OPTIONS refuses this flag. Only the CLI path: run() itself stays free of global
 * effects, for the tests that call it in-process.
 */
function preferSmallHeap(): void {
  setFlagsFromString('--optimize-for-size');
}

export const command: CommandModule = { register };
