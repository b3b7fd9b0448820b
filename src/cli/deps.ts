import type { Readable, Writable } from 'node:stream';
import type { Command } from 'commander';

/** What a command may touch of the outside world; tests pass their own. */
export interface CliDeps {
  stdout: Writable;
  stderr: Writable;
  stdin: Readable;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Aborted on SIGINT/SIGTERM; long-running commands stop cleanly when it fires. */
  signal: AbortSignal;
}

/**
 * A sub-command: `register` declares its options on the program and calls `run` through
 * `invoke`, which records the exit code. `run(args, deps)` is what tests call directly.
 */
export interface CommandModule {
  register(program: Command, deps: CliDeps, invoke: (run: () => Promise<number>) => Promise<void>): void;
}

/** Default config location shared by every command. */
export const DEFAULT_CONFIG = '/etc/f2b-sophosxg/config.yaml';

/** A command line that cannot work (a bad argument value): exit code 2, like commander's own usage errors. */
export class UsageError extends Error {
  readonly code = 'USAGE';
  readonly retryable = false;

  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A one-line error for the terminal: `f2b-sophosxg: <message>`. */
export function errorLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return `f2b-sophosxg: ${msg.split('\n').join('\n  ')}\n`;
}

export { packageVersion as version } from '../util/version.js';
