/**
 * `f2b-sophosxg emulator`: the XG XML API emulator as a standalone process for the demo, the
 * benchmarks and manual trials. Prints `url=…` and `fingerprint256=…` (one line each) once it
 * listens, runs until SIGINT/SIGTERM, then writes the final state as JSON if asked.
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { startEmulator, type EmulatorOptions } from '../../emulator/index.js';
import type { CliDeps, CommandModule } from '../deps.js';

export interface EmulatorArgs {
  host?: string;
  port?: number;
  user?: string;
  /** Name of the environment variable holding the password (never the password itself: argv is public). */
  passwordEnv?: string;
  writeLatencyMs?: number;
  readLatencyMs?: number;
  apiVersion?: string;
  /** Groups to create at start, `NAME` or `NAME:IPv6`; each gets a firewall rule using it, as an admin's blocking rule would. */
  groups?: string[];
  certOut?: string;
  stateOut?: string;
}

function users(args: EmulatorArgs, deps: CliDeps): Record<string, string> {
  if (args.user === undefined && args.passwordEnv === undefined) return { admin: 'admin' };
  if (args.passwordEnv === undefined) throw new Error('--user needs --password-env VAR (the variable holding the password)');
  const password = deps.env[args.passwordEnv];
  if (password === undefined || password === '') throw new Error(`environment variable ${args.passwordEnv} is not set or empty`);
  return { [args.user ?? 'admin']: password };
}

export async function run(args: EmulatorArgs, deps: CliDeps): Promise<number> {
  const opts: EmulatorOptions = {
    users: users(args, deps),
    faults: { writeLatencyMs: args.writeLatencyMs ?? 0, readLatencyMs: args.readLatencyMs ?? 0 },
  };
  if (args.host !== undefined) opts.host = args.host;
  if (args.port !== undefined) opts.port = args.port;
  if (args.apiVersion !== undefined) opts.apiVersion = args.apiVersion;
  if (args.host !== undefined) opts.allowList = ['127.0.0.1', '::1', args.host];
  if (deps.signal.aborted) return 0;

  const em = await startEmulator(opts);
  try {
    for (const spec of args.groups ?? []) {
      const [name = '', family = 'IPv4'] = spec.split(/:(?=IPv[46]$)/);
      em.model.seedGroup({ name, family, description: 'seeded by f2b-sophosxg emulator' });
      em.model.addRule(`block ${name}`, [name]);
    }
    if (args.certOut !== undefined) await writeFile(resolve(deps.cwd, args.certOut), em.certPem, { mode: 0o644 });
    deps.stdout.write(`url=${em.url}\nfingerprint256=${em.fingerprint256}\n`);
    if (args.certOut !== undefined) deps.stdout.write(`cert=${resolve(deps.cwd, args.certOut)}\n`);
    await new Promise<void>((done) => {
      if (deps.signal.aborted) return done();
      deps.signal.addEventListener('abort', () => done(), { once: true });
    });
  } finally {
    await em.close();
  }
  if (args.stateOut !== undefined) {
    await writeFile(resolve(deps.cwd, args.stateOut), `${JSON.stringify({ ...em.dump(), stats: em.stats }, null, 2)}\n`);
  }
  return 0;
}

function int(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) throw new Error(`not a non-negative integer: ${v}`);
  return n;
}

export const command: CommandModule = {
  register(program: Command, deps: CliDeps, invoke) {
    program
      .command('emulator')
      .description('run the Sophos XG XML API emulator (HTTPS, self-signed) until SIGINT/SIGTERM')
      .option('--host <address>', 'listen address', '127.0.0.1')
      .option('--port <n>', 'listen port (0 = random)', int, 0)
      .option('--user <name>', 'API admin user name (default admin/admin)')
      .option('--password-env <VAR>', 'environment variable holding the password of --user')
      .option('--write-latency-ms <n>', 'latency added to every write (real firewalls: 5000-8000)', int, 0)
      .option('--read-latency-ms <n>', 'latency added to every read', int, 0)
      .option('--api-version <v>', 'APIVersion the responses carry', '2000.2')
      .option('--group <name[:IPv6]>', 'create this group at start, used by a firewall rule (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
      .option('--cert-out <file>', 'write the self-signed certificate (PEM) here, for use as a CA file')
      .option('--state-out <file>', 'on exit, write the final hosts/groups/rules as JSON here')
      .action((opts: Omit<EmulatorArgs, 'groups'> & { group: string[] }) => {
        const { group, ...rest } = opts;
        return invoke(() => run({ ...rest, groups: group }, deps));
      });
  },
};

export const { register } = command;
