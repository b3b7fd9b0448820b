/**
 * `f2b-sophosxg emulator`: the XG XML API emulator as a standalone process for the demo, the
 * benchmarks and manual trials. Prints `url=…`, `fingerprint256=…` and, with the default login,
 * `user=` / `password=` (one line each) once it listens, runs until SIGINT/SIGTERM, then writes
 * the final state as JSON if asked.
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { persistentTls, startEmulator, type EmulatorOptions, type ProfileName } from '../../emulator/index.js';
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
  /** Groups to create at start, `NAME` or `NAME:FAMILY`; each gets a firewall rule using it, as an admin's blocking rule would. */
  groups?: string[];
  /** The firewall's pace: fast (no delay) or realistic (writes 6 ± 1.5 s, reads 1 ± 0.25 s, one at a time). */
  profile?: ProfileName;
  /** Seed of the realistic profile's jitter: the same seed, the same delays. */
  seed?: number;
  /** Keep the key and certificate here across starts (same fingerprint every time). */
  certDir?: string;
  certOut?: string;
  stateOut?: string;
}

const DEFAULT_LOGIN = { user: 'admin', password: 'admin' };

/** `NAME` or `NAME:FAMILY` (IPv4/IPv6, any case) → the group to seed; anything else after a colon is refused. */
export function parseGroupSpec(spec: string): { name: string; family: 'IPv4' | 'IPv6' } {
  const m = /^(.*?)(?::(ipv[46]))?$/i.exec(spec);
  const name = m?.[1] ?? '';
  if (name === '' || name.includes(':')) {
    throw new InvalidArgumentError(
      `${JSON.stringify(spec)}: expected NAME or NAME:FAMILY with FAMILY IPv4 or IPv6 (a group name cannot hold ':')`,
    );
  }
  return { name, family: m?.[2]?.toLowerCase() === 'ipv6' ? 'IPv6' : 'IPv4' };
}

function users(args: EmulatorArgs, deps: CliDeps): Record<string, string> {
  if (args.user === undefined && args.passwordEnv === undefined) return { [DEFAULT_LOGIN.user]: DEFAULT_LOGIN.password };
  if (args.passwordEnv === undefined) throw new Error('--user needs --password-env VAR (the variable holding the password)');
  const password = deps.env[args.passwordEnv];
  if (password === undefined || password === '') throw new Error(`environment variable ${args.passwordEnv} is not set or empty`);
  return { [args.user ?? 'admin']: password };
}

/** The emulator's options from the command line (TLS material aside). */
export function emulatorOptions(args: EmulatorArgs, deps: CliDeps): EmulatorOptions {
  const opts: EmulatorOptions = { users: users(args, deps), faults: {} };
  // Only what was asked for: explicit latencies override the profile's.
  if (args.writeLatencyMs !== undefined) opts.faults = { ...opts.faults, writeLatencyMs: args.writeLatencyMs, writeJitterMs: 0 };
  if (args.readLatencyMs !== undefined) opts.faults = { ...opts.faults, readLatencyMs: args.readLatencyMs, readJitterMs: 0 };
  if (args.profile !== undefined) opts.profile = args.profile;
  if (args.seed !== undefined) opts.seed = args.seed;
  if (args.host !== undefined) opts.host = args.host;
  if (args.port !== undefined) opts.port = args.port;
  if (args.apiVersion !== undefined) opts.apiVersion = args.apiVersion;
  if (args.host !== undefined) opts.allowList = ['127.0.0.1', '::1', args.host];
  return opts;
}

export async function run(args: EmulatorArgs, deps: CliDeps): Promise<number> {
  const opts = emulatorOptions(args, deps);
  const groups = (args.groups ?? []).map(parseGroupSpec);
  if (args.certDir !== undefined) {
    const { key, cert } = await persistentTls(resolve(deps.cwd, args.certDir));
    opts.tls = { key, cert };
  }
  if (deps.signal.aborted) return 0;

  const em = await startEmulator(opts);
  try {
    for (const { name, family } of groups) {
      em.model.seedGroup({ name, family, description: 'seeded by f2b-sophosxg emulator' });
      // A Drop rule with the group as its source, as `Get FirewallRule` shows it: `check` reports it enforced.
      em.model.firewallRules.add({ name: `block ${name}`, action: 'Drop', sourceNetworks: [name], ipFamily: family });
    }
    if (args.certOut !== undefined) await writeFile(resolve(deps.cwd, args.certOut), em.certPem, { mode: 0o644 });
    deps.stdout.write(`url=${em.url}\nfingerprint256=${em.fingerprint256}\n`);
    if (args.certDir !== undefined) deps.stdout.write(`certDir=${resolve(deps.cwd, args.certDir)}\n`);
    if (args.certOut !== undefined) deps.stdout.write(`cert=${resolve(deps.cwd, args.certOut)}\n`);
    // Only the built-in login is printed: a password from --password-env never reaches the output.
    if (args.user === undefined && args.passwordEnv === undefined)
      deps.stdout.write(`user=${DEFAULT_LOGIN.user}\npassword=${DEFAULT_LOGIN.password}\n`);
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
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`not a non-negative integer: ${v}`);
  return n;
}

function profile(v: string): ProfileName {
  if (v !== 'fast' && v !== 'realistic') throw new InvalidArgumentError(`expected fast or realistic, got ${JSON.stringify(v)}`);
  return v;
}

const HELP_AFTER = `
Prints, once it listens (one key=value per line, for scripts):
  url=https://127.0.0.1:PORT/webconsole/APIController
  fingerprint256=AB:CD:…   (tls: { fingerprint256: "…" } in the config)
  user=admin / password=admin   (the default login; not printed with --user)

Examples:
  f2b-sophosxg emulator --port 4444 --cert-dir ~/.cache/f2b-emulator --group f2b_blockings
  f2b-sophosxg emulator --profile realistic --seed 7 --group f2b_blockings --group f2b_blockings6:IPv6
  XG_PW=secret f2b-sophosxg emulator --user api --password-env XG_PW

Exit status: 0 after SIGINT/SIGTERM, 1 on an error, 2 on a usage error.`;

export const command: CommandModule = {
  register(program: Command, deps: CliDeps, invoke) {
    program
      .command('emulator')
      .description('run the Sophos XG XML API emulator (HTTPS, self-signed) until SIGINT/SIGTERM')
      .option('--host <address>', 'listen address', '127.0.0.1')
      .option('--port <n>', 'listen port (0 = random)', int, 0)
      .option('--user <name>', 'API admin user name (default admin/admin)')
      .option('--password-env <VAR>', 'environment variable holding the password of --user')
      .option(
        '--profile <name>',
        "the firewall's pace: fast (no delay) or realistic (writes 6 ± 1.5 s, reads 1 ± 0.25 s, one at a time)",
        profile,
      )
      .option('--seed <n>', "seed of the realistic profile's jitter (same seed, same delays)", int)
      .option('--write-latency-ms <n>', 'latency added to every write, overrides the profile (real firewalls: 5000-8000)', int)
      .option('--read-latency-ms <n>', 'latency added to every read, overrides the profile', int)
      .option('--api-version <v>', 'APIVersion the responses carry', '2000.2')
      .option(
        '--group <name[:family]>',
        'create this group at start (family IPv4, the default, or IPv6), used by a firewall rule (repeatable)',
        (v: string, acc: string[]) => {
          parseGroupSpec(v);
          return [...acc, v];
        },
        [] as string[],
      )
      .option('--cert-dir <dir>', 'keep the key and certificate here across starts: the same fingerprint every time (made on first use)')
      .option('--cert-out <file>', 'write the self-signed certificate (PEM) here, for use as a CA file')
      .option('--state-out <file>', 'on exit, write the final hosts/groups/rules as JSON here')
      .addHelpText('after', HELP_AFTER)
      .action((opts: Omit<EmulatorArgs, 'groups'> & { group: string[] }) => {
        const { group, ...rest } = opts;
        return invoke(() => run({ ...rest, groups: group }, deps));
      });
  },
};

export const { register } = command;
