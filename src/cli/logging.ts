/** The logger of the commands that start the sidecar's runtime (`run`, `replay`, `demo`). */
import type { Config } from '../config/index.js';
import { createLogger, type Logger } from '../util/log.js';
import type { CliDeps } from './deps.js';

/** Command-line overrides of the config's logging section. */
export interface LogArgs {
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  logFormat?: 'text' | 'json';
}

/** Logger plus the list of secrets it scrubs; commands add passwords as they read them. */
export function commandLogger(config: Config, deps: CliDeps, over: LogArgs): { log: Logger; secrets: string[] } {
  const secrets: string[] = [];
  const log = createLogger({
    level: over.logLevel ?? config.logging.level,
    format: over.logFormat ?? config.logging.format,
    destination: deps.stderr,
    secrets: () => secrets,
    env: deps.env,
  });
  return { log, secrets };
}
