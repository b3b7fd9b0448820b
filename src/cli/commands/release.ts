/**
 * `f2b-sophosxg release -c CONFIG [TOKEN]`: let removals the breaker holds go (issue 11 item 6).
 * With a token, that hold; without, every hold status.json lists (what `status` shows). The
 * request is a file in the state directory that the running sidecar picks up within seconds, or
 * the next start honours.
 */
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../../config/index.js';
import { STATUS_FILE } from '../../app/runtime.js';
import { requestRelease } from '../../app/release.js';
import type { StatusSnapshot } from '../../metrics/status.js';
import { DEFAULT_CONFIG, type CliDeps, type CommandModule } from '../deps.js';

export interface ReleaseArgs {
  config: string;
  token?: string;
}

async function listedHolds(stateDir: string): Promise<NonNullable<StatusSnapshot['holds']>> {
  const text = await readFile(join(stateDir, STATUS_FILE), 'utf8').catch(() => undefined);
  if (text === undefined) return [];
  return (JSON.parse(text) as StatusSnapshot).holds ?? [];
}

export async function run(args: ReleaseArgs, deps: CliDeps): Promise<number> {
  const config = await loadConfig(args.config);
  const holds = await listedHolds(config.stateDir);
  const tokens = args.token !== undefined ? [args.token] : holds.map((h) => h.token);
  if (tokens.length === 0) {
    deps.stdout.write('no removals held (per status.json); nothing to release\n');
    return 0;
  }
  if (args.token !== undefined && holds.length > 0 && !holds.some((h) => h.token === args.token)) {
    deps.stderr.write(`f2b-sophosxg: no such hold ${args.token} in status.json (it changed? run status); the request is written anyway\n`);
  }
  for (const token of tokens) {
    await requestRelease(config.stateDir, token);
    const h = holds.find((x) => x.token === token);
    deps.stdout.write(`release requested: ${token}${h ? ` (${h.count} removals in ${h.group})` : ''}\n`);
  }
  deps.stdout.write('the running sidecar applies it within seconds (or the next start does)\n');
  return 0;
}

export function register(program: Command, deps: CliDeps, invoke: (run: () => Promise<number>) => Promise<void>): void {
  program
    .command('release')
    .description('let removals held by the breaker go (all holds `status` shows, or the one TOKEN names)')
    .argument('[token]', 'the hold token shown by status and the log')
    .option('-c, --config <file>', 'config file', DEFAULT_CONFIG)
    .action((token: string | undefined, opts: { config: string }) =>
      invoke(() => run(token === undefined ? opts : { ...opts, token }, deps)),
    );
}

export const command: CommandModule = { register };
