#!/usr/bin/env node
/**
 * The only place that owns process.exit: parses arguments with commander, hands each command
 * its dependencies, and turns the result into an exit code.
 */
import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { errorLine, UsageError, version, type CliDeps } from './deps.js';
import { loadCommands } from './commands/index.js';

const require = createRequire(import.meta.url);
/**
 * commander is CommonJS: `require` loads it in about two thirds of the time an ESM import takes
 * (no export lexing, no ESM wrapper), which `parse` in a shell pipeline notices (bench/RESULTS.md).
 */
const { Command, CommanderError } = require('commander') as typeof import('commander');

/** The end of `f2b-sophosxg --help` (and of the man page made from it): how the pieces fit, and the exit codes. */
export const PROGRAM_HELP = `
The sidecar (\`run\`, usually the systemd unit f2b-sophosxg.service) follows fail2ban's log and keeps
IP host groups on the firewall equal to fail2ban's bans. The config is /etc/f2b-sophosxg/config.yaml
unless -c FILE is given (parse, emulator and demo read none). Each command has its own --help.

Examples:
  f2b-sophosxg check --offline -c /etc/f2b-sophosxg/config.yaml   validate the config, contact nothing
  f2b-sophosxg check                                              log in, report every group
  f2b-sophosxg run --dry-run                                      read the firewall, print the writes
  f2b-sophosxg status                                             what the running sidecar is doing
  f2b-sophosxg parse /var/log/fail2ban.log                        the events the sidecar would see
  f2b-sophosxg demo                                               the whole thing on a bundled log

Exit status:
  0  success
  1  an error (one line on stderr; a config error lists every problem as FILE:LINE key: message)
  2  a usage error (unknown option, missing or malformed argument)
  3  check: a configured group is missing on the firewall
`;

export async function main(argv: string[], deps: CliDeps): Promise<number> {
  const program = new Command('f2b-sophosxg')
    .description('Mirror fail2ban bans into IP host groups on a Sophos Firewall (XG / SFOS).')
    .version(version(), '-V, --version')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => deps.stdout.write(s),
      writeErr: (s) => deps.stderr.write(s),
    })
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', PROGRAM_HELP);
  let code = 0;
  const invoke = async (run: () => Promise<number>): Promise<void> => {
    try {
      code = await run();
    } catch (err) {
      deps.stderr.write(errorLine(err));
      code = err instanceof UsageError ? 2 : 1;
    }
  };
  for (const mod of await loadCommands(argv)) mod.register(program, deps, invoke);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with code 0; usage errors with 2.
      return err.exitCode === 0 ? 0 : 2;
    }
    deps.stderr.write(errorLine(err));
    return 1;
  }
  return code;
}

/**
 * Run only when this file is the program. npm's global bin and systemd reach it through a symlink
 * (`/usr/bin/f2b-sophosxg` → …/dist/src/cli/main.js), so compare real paths, not names.
 */
function isEntryPoint(): boolean {
  const arg = process.argv[1];
  if (arg === undefined) return false;
  try {
    return realpathSync(arg) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

const isEntry = isEntryPoint();
if (isEntry) {
  const ac = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => ac.abort(new Error(`received ${sig}`)));
  }
  const deps: CliDeps = {
    stdout: process.stdout,
    stderr: process.stderr,
    // On first use only: setting up stdin costs milliseconds that `parse FILE` has no use for.
    get stdin() {
      return process.stdin;
    },
    env: process.env,
    cwd: process.cwd(),
    signal: ac.signal,
  };
  main(process.argv.slice(2), deps).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(errorLine(err));
      process.exit(1);
    },
  );
}
