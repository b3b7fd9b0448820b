/**
 * `f2b-sophosxg replay FILE -c CONFIG`: backfill. Applies an old fail2ban log to the firewalls
 * once, then exits: 0 when every firewall holds the result, non-zero with a one-line reason.
 *
 * Two steps, both through the pipeline's own model:
 *  1. the file is streamed into a scratch DesiredModel on the file's own clock (its time stamps),
 *     so stop-Unbans, suspensions and restores resolve as they did when the log was written
 *     (src/pipeline/standing.ts);
 *  2. the bans still standing at the end of the file (active or suspended) are merged as Ban
 *     events into the sidecar's live state under the state lock, and the firewalls are
 *     reconciled against that state.
 *
 * Why merge and not replace: the live state is newer than any old log, so an old Unban must not
 * lift a ban `run` holds, and a backfilled ban must survive the next `run` (it is saved in the
 * state dir; fail2ban's later Unban removes it as usual). Replay adds; it never removes.
 * Holding the lock means replay refuses while `run` is running. No line of the file carries a
 * checkpoint, so the live log position is saved unchanged.
 */
import type { Command } from 'commander';
import { loadConfig } from '../../config/index.js';
import { jailMatches } from '../../core/glob.js';
import { makeNeverBlock } from '../../core/network.js';
import type { F2bEvent } from '../../parser/types.js';
import { standingBans } from '../../pipeline/standing.js';
import { startRuntime, type Runtime } from '../../app/runtime.js';
import { DEFAULT_CONFIG, version, type CliDeps, type CommandModule } from '../deps.js';
import { fileLines } from '../lines.js';
import { commandLogger, type LogArgs } from '../logging.js';

export interface ReplayArgs extends LogArgs {
  file: string;
  config: string;
  /** Give up (exit 1) when the firewalls have not converged within this long. */
  timeoutMs: number;
}

/** One-line failure of the command; main prints `f2b-sophosxg: <message>` and exits 1. */
export class ReplayError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  constructor(message: string, opts: { code: string; retryable: boolean; cause?: unknown }) {
    super(message, { cause: opts.cause });
    this.name = 'ReplayError';
    this.code = opts.code;
    this.retryable = opts.retryable;
  }
}

export async function run(args: ReplayArgs, deps: CliDeps): Promise<number> {
  const config = await loadConfig(args.config);
  let bans: F2bEvent[];
  try {
    // An old log is what replay is for: no line is judged too old (log.maxLineAgeMs is for run).
    const model = {
      groups: config.groups,
      neverBlock: makeNeverBlock(config.neverBlock),
      jailMatches,
      suspend: config.suspend,
      maxLineAgeMs: 0,
    };
    bans = await standingBans(fileLines(args.file), model, args.file);
  } catch (err) {
    // Only reading can fail here: the parser and the model never throw.
    throw new ReplayError(`cannot read ${args.file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, {
      code: 'REPLAY_READ',
      retryable: false,
      cause: err,
    });
  }
  const { log, secrets } = commandLogger(config, deps, args);
  // No metrics endpoint: replay is a short job, and its port belongs to `run`.
  const runtime = await startRuntime({
    config: { ...config, metrics: undefined },
    log,
    env: deps.env,
    onSecret: (s) => secrets.push(s),
    version: version(),
    follow: false,
    input: args.file,
  });
  try {
    for (const event of bans) runtime.sidecar.push({ event });
    await converge(runtime, args.timeoutMs, deps.signal);
  } finally {
    await runtime.stop();
  }
  const groups = runtime
    .status()
    .groups.map((g) => `${g.group} ${g.applied}`)
    .join(', ');
  deps.stdout.write(`replayed ${args.file}: ${bans.length} standing ban(s) merged into the state; firewalls converged (${groups})\n`);
  return 0;
}

/** Resolves when every firewall equals the desired state; rejects on a permanent firewall error, the deadline or a signal. */
async function converge(runtime: Runtime, timeoutMs: number, signal: AbortSignal): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const failure = new Promise<never>((_, reject) => {
    const deadline = Date.now() + timeoutMs;
    const check = () => {
      const permanent = runtime.status().firewalls.find((f) => f.permanentError);
      if (permanent?.permanentError) {
        const e = permanent.permanentError;
        return reject(
          new ReplayError(`firewall ${permanent.firewall}: ${e.code ?? 'error'}: ${e.message}`, {
            code: 'REPLAY_FIREWALL',
            retryable: false,
          }),
        );
      }
      if (signal.aborted)
        return reject(new ReplayError('interrupted before the firewalls converged', { code: 'REPLAY_ABORTED', retryable: true }));
      if (Date.now() > deadline) {
        const last = runtime.status().firewalls.find((f) => !f.reachable);
        const why = last ? `firewall ${last.firewall} unreachable` : 'firewalls still behind';
        return reject(new ReplayError(`not converged within ${timeoutMs} ms (${why})`, { code: 'REPLAY_TIMEOUT', retryable: true }));
      }
      timer = setTimeout(check, 200);
    };
    check();
  });
  try {
    await Promise.race([runtime.sidecar.idle(), failure]);
  } finally {
    clearTimeout(timer);
  }
}

export function register(program: Command, deps: CliDeps, invoke: (run: () => Promise<number>) => Promise<void>): void {
  program
    .command('replay')
    .description('apply an old fail2ban log to the firewalls once (backfill); refuses while `run` holds the state lock')
    .argument('<file>', 'the fail2ban log to apply')
    .option('-c, --config <file>', 'config file', DEFAULT_CONFIG)
    .option('--timeout-ms <n>', 'give up when the firewalls have not converged by then', (v) => Number(v), 300_000)
    .option('--log-level <level>', 'debug | info | warn | error (overrides the config)')
    .option('--log-format <format>', 'text | json (overrides the config)')
    .action((file: string, opts: Omit<ReplayArgs, 'file'>) => invoke(() => run({ ...opts, file }, deps)));
}

export const command: CommandModule = { register };
