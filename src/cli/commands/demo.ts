/**
 * `f2b-sophosxg demo`: the sidecar's main job on an embedded default — the bundled XG emulator
 * (real HTTPS on 127.0.0.1, certificate pinned like a real self-signed XG) and a real fail2ban
 * log played line by line — so a newcomer sees groups fill and drain without a firewall.
 */
import type { Command } from 'commander';
import { mkdtemp, readFile, rm, appendFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../config/index.js';
import { startEmulator } from '../../emulator/index.js';
import { startRuntime } from '../../app/runtime.js';
import { createLogger } from '../../util/log.js';
import { version, type CliDeps, type CommandModule } from '../deps.js';

export interface DemoArgs {
  log?: string;
  /** Delay between log lines. */
  lineMs: number;
  writeLatencyMs: number;
}

const BUNDLED = fileURLToPath(new URL('../../../demo/fail2ban-1.0.2-full-cycle.log', import.meta.url));
const BUNDLED_DIST = fileURLToPath(new URL('../../../../demo/fail2ban-1.0.2-full-cycle.log', import.meta.url));

export async function run(args: DemoArgs, deps: CliDeps): Promise<number> {
  const source =
    args.log ??
    (await readFile(BUNDLED, 'utf8').then(
      () => BUNDLED,
      () => BUNDLED_DIST,
    ));
  const lines = (await readFile(source, 'utf8')).split('\n').filter((l) => l !== '');
  const password = 'demo-password';
  const emu = await startEmulator({ users: { demo: password }, faults: { writeLatencyMs: args.writeLatencyMs } });
  // The groups exist and a Drop rule uses each as a source, as on a firewall set up per the README.
  for (const [name, family] of [
    ['f2b_blockings', 'IPv4'],
    ['f2b_blockings6', 'IPv6'],
  ] as const) {
    emu.model.seedGroup({ name, family, description: 'seeded by f2b-sophosxg demo' });
    emu.model.firewallRules.add({ name: `block ${name}`, action: 'Drop', sourceNetworks: [name], ipFamily: family });
  }
  const dir = await mkdtemp(join(tmpdir(), 'f2b-sophosxg-demo-'));
  const logPath = join(dir, 'fail2ban.log');
  await writeFile(logPath, '');
  const config = parseConfig(
    [
      `log: { path: ${JSON.stringify(logPath)}, startAt: beginning }`,
      `stateDir: ${JSON.stringify(join(dir, 'state'))}`,
      'firewalls:',
      '  demo:',
      `    url: ${emu.url}`,
      '    username: demo',
      '    passwordEnv: DEMO_XG_PASSWORD',
      `    tls: { fingerprint256: "${emu.fingerprint256}" }`,
      '    hostPrefix: f2b_',
      'groups:',
      '  - { name: f2b_blockings, ipv6Name: f2b_blockings6, firewall: demo, jails: ["*"] }',
      'batch: { windowMs: 300, maxSize: 50 }',
      'suspend: { stopUnbanWindowMs: 1000, restoreGraceMs: 3000, maxSuspendMs: 60000 }',
    ].join('\n'),
    '(demo config)',
  );
  const log = createLogger({ level: 'warn', format: 'text', destination: deps.stderr, secrets: () => [password] });
  const out = (s: string) => deps.stdout.write(s);
  out(`emulator ${emu.url} (certificate pinned: ${emu.fingerprint256.slice(0, 23)}…)\n`);
  out(`playing ${lines.length} lines of ${source}\n`);
  const runtime = await startRuntime({
    config,
    log,
    env: { ...deps.env, DEMO_XG_PASSWORD: password },
    onSecret: () => undefined,
    version: version(),
    follow: true,
  });
  // What a group blocks: the addresses of its IPLists (lists mode, run's default) and of its
  // per-address hosts, so the counters mean the same in both modes.
  const blocked = (g: string): string[] =>
    emu.model.groupMembers(g).flatMap((name) => {
      const h = emu.model.hostByName(name);
      if (h?.hostType === 'IPList') return (h.listOfIPAddresses ?? '').split(',').filter((a) => a !== '');
      return [h?.ipAddress ?? name];
    });
  const tty = (deps.stdout as { isTTY?: boolean }).isTTY === true;
  let last = '';
  const show = (i: number) => {
    const count = (g: string) => `${blocked(g).length} address(es) in ${emu.model.groupMembers(g).length} object(s)`;
    const counts = `f2b_blockings: ${count('f2b_blockings')}  f2b_blockings6: ${count('f2b_blockings6')}  requests: ${emu.stats.requests}`;
    const line = `line ${String(i).padStart(3)}/${lines.length}  ${counts}`;
    // A pipe gets a line only when the firewall changed; a terminal gets a live counter.
    if (!tty && counts === last) return;
    last = counts;
    out(tty ? `\r${line}` : `${line}\n`);
  };
  try {
    for (let i = 0; i < lines.length && !deps.signal.aborted; i++) {
      await appendFile(logPath, `${lines[i]}\n`);
      const l = lines[i] ?? '';
      if (tty && / (Ban|Unban|Restore Ban) /.test(l)) out(`\r\x1b[K  ${l.slice(24, 120)}\n`);
      show(i + 1);
      await new Promise((r) => setTimeout(r, args.lineMs));
    }
    await runtime.sidecar.idle();
    show(lines.length);
    out('\n\nfinal firewall state (what the XG would drop):\n');
    for (const g of ['f2b_blockings', 'f2b_blockings6']) {
      out(`  ${g} (${emu.model.groupMembers(g).join(', ') || 'no objects'}): ${blocked(g).join(', ') || '(empty)'}\n`);
    }
    out('(the log ends with fail2ban stopped: its bans are suspended, not lifted, until it starts again)\n');
  } finally {
    await runtime.stop();
    await emu.close();
    await rm(dir, { recursive: true, force: true });
  }
  return 0;
}

export function register(program: Command, deps: CliDeps, invoke: (run: () => Promise<number>) => Promise<void>): void {
  program
    .command('demo')
    .description('run the sidecar against the bundled XG emulator on a real fail2ban log (no firewall needed)')
    .option('--log <file>', 'fail2ban log to play (default: the bundled real capture)')
    .option('--line-ms <n>', 'delay between log lines', (v) => Number(v), 60)
    .option('--write-latency-ms <n>', 'emulated firewall write latency', (v) => Number(v), 200)
    .action((opts: DemoArgs) => invoke(() => run(opts, deps)));
}

export const command: CommandModule = { register };
