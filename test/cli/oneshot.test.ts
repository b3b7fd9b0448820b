/**
 * The one-shot commands (start | stop | check | flush | ban | unban) against the HTTPS XG
 * emulator, with a real config file and password file in a temp directory: exit codes, the one
 * line they print, and the firewall state they leave. The fail2ban action file is parsed and its
 * command lines are run through the same command registration the CLI uses.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { Command, CommanderError } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { run, register, type OneShotArgs } from '../../src/cli/commands/oneshot.js';
import { DEFAULT_CONFIG, errorLine, UsageError, type CliDeps } from '../../src/cli/deps.js';
import { hostName } from '../../src/xg/naming.js';
import { startFirewall, type FirewallFixture } from '../xg/emulator-fixture.js';

const PASSWORD = `s33d&<pw> "Zq9"`;
const ACTION_FILE = new URL('../../action.d/sophosxg.conf', import.meta.url);

interface Io {
  code: number;
  out: string;
  err: string;
}

interface Env {
  f: FirewallFixture;
  dir: string;
  config: string;
  /** Every byte any command printed, for the password check. */
  printed: string[];
}

let env: Env | undefined;
afterEach(async () => {
  if (!env) return;
  await env.f.teardown();
  await rm(env.dir, { recursive: true, force: true });
  env = undefined;
});

async function setup(opts: { password?: string; url?: string } = {}): Promise<Env> {
  const f = await startFirewall({ users: { admin: 'admin', api: PASSWORD } });
  const dir = await mkdtemp(join(tmpdir(), 'oneshot-test-'));
  await writeFile(join(dir, 'xg-password'), `${opts.password ?? PASSWORD}\n`, { mode: 0o600 });
  const config = join(dir, 'config.yaml');
  await writeFile(
    config,
    [
      'firewalls:',
      '  main:',
      `    url: ${opts.url ?? f.em.url}`,
      '    username: api',
      `    passwordFile: ${join(dir, 'xg-password')}`,
      '    tls:',
      `      fingerprint256: "${f.em.fingerprint256}"`,
      '    hostPrefix: f2b_',
      '    requestTimeoutMs: 5000',
      '    connectTimeoutMs: 1000',
      '    batchSize: 10',
      'groups:',
      '  - name: f2b_ssh',
      '    ipv6Name: f2b_ssh6',
      '    firewall: main',
      '    jails: [sshd]',
      '  - name: f2b_web',
      '    firewall: main',
      '    jails: ["nginx-*"]',
      '',
    ].join('\n'),
  );
  env = { f, dir, config, printed: [] };
  return env;
}

function capture(): { deps: CliDeps; out: () => string; err: () => string } {
  const sink = (into: string[]) =>
    new Writable({
      write(chunk: Buffer | string, _enc, cb) {
        into.push(chunk.toString());
        env?.printed.push(chunk.toString());
        cb();
      },
    });
  const out: string[] = [];
  const err: string[] = [];
  const deps: CliDeps = {
    stdout: sink(out),
    stderr: sink(err),
    stdin: Readable.from([]),
    env: {},
    cwd: tmpdir(),
    signal: new AbortController().signal,
  };
  return { deps, out: () => out.join(''), err: () => err.join('') };
}

/** The exported run(); a rejection becomes what the CLI makes of it (exit 1, a UsageError 2, errorLine). */
async function oneShot(args: Omit<OneShotArgs, 'config'> & { config?: string }): Promise<Io> {
  const io = capture();
  let code: number;
  try {
    code = await run({ config: env?.config ?? '', ...args }, io.deps);
  } catch (e) {
    io.deps.stderr.write(errorLine(e));
    code = e instanceof UsageError ? 2 : 1;
  }
  return { code, out: io.out(), err: io.err() };
}

/** A command line as fail2ban runs it, through the one-shot module's own registration. */
async function cli(argv: string[]): Promise<Io> {
  const io = capture();
  let code = 0;
  const program = new Command('f2b-sophosxg').exitOverride().configureOutput({
    writeOut: (s) => io.deps.stdout.write(s),
    writeErr: (s) => io.deps.stderr.write(s),
  });
  register(program, io.deps, async (fn) => {
    try {
      code = await fn();
    } catch (e) {
      io.deps.stderr.write(errorLine(e));
      code = e instanceof UsageError ? 2 : 1;
    }
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    code = 2;
  }
  return { code, out: io.out(), err: io.err() };
}

const lines = (s: string): string[] => s.split('\n').filter((l) => l !== '');
const members = (e: Env, group: string): string[] => [...e.f.em.model.groupMembers(group)].sort();

describe('one-shot commands against the emulator', () => {
  it('start creates every configured group with its family, idempotently', async () => {
    const e = await setup();
    let r = await oneShot({ action: 'start' });
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(lines(r.out)).toHaveLength(3);
    expect(
      e.f.em
        .dump()
        .groups.map((g) => [g.name, g.family])
        .sort(),
    ).toEqual([
      ['f2b_ssh', 'IPv4'],
      ['f2b_ssh6', 'IPv6'],
      ['f2b_web', 'IPv4'],
    ]);
    const writes = e.f.em.stats.writes;
    r = await oneShot({ action: 'start', jail: 'sshd' });
    expect(r.code).toBe(0);
    expect(lines(r.out)).toEqual(['group f2b_ssh (IPv4) on main is ready', 'group f2b_ssh6 (IPv6) on main is ready']);
    expect(e.f.em.stats.writes).toBe(writes);
  });

  it('ban and unban put each family in its own group of the jail, and delete the host on unban', async () => {
    const e = await setup();
    expect((await oneShot({ action: 'ban', jail: 'sshd', ip: '203.0.113.7' })).code).toBe(0);
    expect((await oneShot({ action: 'ban', jail: 'sshd', ip: '2001:DB8::7' })).code).toBe(0);
    const r = await oneShot({ action: 'ban', jail: 'nginx-http', ip: '198.51.100.0/24' });
    expect(r).toMatchObject({ code: 0, out: 'banned 198.51.100.0/24 in group f2b_web on main\n', err: '' });
    expect(members(e, 'f2b_ssh')).toEqual([hostName('f2b_', '203.0.113.7')]);
    expect(members(e, 'f2b_ssh6')).toEqual([hostName('f2b_', '2001:db8::7')]);
    expect(members(e, 'f2b_web')).toEqual([hostName('f2b_', '198.51.100.0/24')]);

    expect((await oneShot({ action: 'unban', jail: 'sshd', ip: '203.0.113.7' })).code).toBe(0);
    expect((await oneShot({ action: 'unban', jail: 'sshd', ip: '203.0.113.7' })).code).toBe(0);
    expect(members(e, 'f2b_ssh')).toEqual([]);
    expect(e.f.em.model.hostByName(hostName('f2b_', '203.0.113.7'))).toBeUndefined();
    expect(e.f.em.model.groupByName('f2b_ssh')).toBeDefined();
  });

  it('ban skips, with a warning and exit 0, an own network and a family the jail has no group for', async () => {
    const e = await setup();
    let r = await oneShot({ action: 'ban', jail: 'sshd', ip: '10.1.2.3' });
    expect(r).toMatchObject({ code: 0, out: '' });
    expect(lines(r.err)).toEqual(['warning: ban ignored: 10.1.2.3 is in neverBlock']);
    r = await oneShot({ action: 'ban', jail: 'nginx-http', ip: '2001:db8::9' });
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/^warning: ban of 2001:db8::9 skipped: no IPv6 group/);
    expect(e.f.em.stats.requests).toBe(0);
  });

  it('check reports each group: existence and owned member count; exit 3 while one is missing', async () => {
    const e = await setup();
    await oneShot({ action: 'ban', jail: 'sshd', ip: '203.0.113.7' });
    await oneShot({ action: 'ban', jail: 'sshd', ip: '203.0.113.8' });
    await e.f.seedForeign({ name: 'admin_host', address: '192.0.2.10', groups: ['f2b_ssh'] });
    e.f.em.model.firewallRules.add({ name: 'Drop ssh bans', action: 'Drop', sourceNetworks: ['f2b_ssh'] });
    let r = await oneShot({ action: 'check', jail: 'sshd' });
    expect(r.code).toBe(3);
    expect(lines(r.out)).toEqual([
      'firewall main: login ok',
      'group f2b_ssh (IPv4) on main: exists, 2 owned member(s), 1 other member(s)',
      'group f2b_ssh on main: enforced by "Drop ssh bans"',
      "group f2b_ssh6 (IPv6) on main: MISSING (run 'f2b-sophosxg start' or the sidecar to create it)",
      'group f2b_ssh6 on main: NOT ENFORCED: no enabled Drop/Reject rule uses it as a source network',
    ]);
    await oneShot({ action: 'start' });
    // Groups exist, but f2b_web is used only by an Accept rule and f2b_ssh6 by a disabled one.
    e.f.em.model.firewallRules.add({ name: 'Allow web', action: 'Accept', sourceNetworks: ['f2b_web'] });
    e.f.em.model.firewallRules.add({
      name: 'Drop ssh6',
      action: 'Reject',
      sourceNetworks: ['f2b_ssh6'],
      status: 'Disable',
      ipFamily: 'IPv6',
    });
    r = await oneShot({ action: 'check' });
    expect(r.code).toBe(3);
    expect(r.out).toContain('group f2b_ssh6 (IPv6) on main: exists, 0 owned member(s), 0 other member(s)');
    expect(r.out).toContain('group f2b_web (IPv4) on main: exists, 0 owned member(s), 0 other member(s)');
    expect(r.out).toContain(
      'group f2b_web on main: NOT ENFORCED: no enabled Drop/Reject rule uses it as a source network ("Allow web": action Accept)',
    );
    expect(r.out).toContain(
      'group f2b_ssh6 on main: NOT ENFORCED: no enabled Drop/Reject rule uses it as a source network ("Drop ssh6": rule is disabled)',
    );
    // --groups-only (the fail2ban action's actioncheck) does not judge the rules.
    expect(await oneShot({ action: 'check', groupsOnly: true })).toMatchObject({ code: 0 });
    e.f.em.model.firewallRules.remove('Allow web');
    e.f.em.model.firewallRules.remove('Drop ssh6');
    e.f.em.model.firewallRules.add({ name: 'Reject web', action: 'Reject', sourceNetworks: ['f2b_web', 'f2b_ssh6'], ipFamily: 'IPv6' });
    r = await oneShot({ action: 'check' });
    expect(r.code).toBe(0);
    expect(lines(r.out)).toHaveLength(7);
    expect(r.out).toContain('group f2b_web on main: enforced by "Reject web"');
    expect(r.out).not.toContain('NOT ENFORCED');
  });

  it('check --offline validates the config without contacting the firewall', async () => {
    const e = await setup({ url: 'https://127.0.0.1:1/webconsole/APIController' });
    const r = await oneShot({ action: 'check', offline: true });
    expect(r).toMatchObject({ code: 0, err: '', out: `config ${e.config} is valid: 1 firewall(s), 3 group(s)\n` });
    expect(e.f.em.stats.requests).toBe(0);
  });

  it('flush removes only owned members, keeps every other member and the group itself', async () => {
    const e = await setup();
    for (const ip of ['203.0.113.7', '203.0.113.8', '203.0.113.9']) await oneShot({ action: 'ban', jail: 'sshd', ip });
    await e.f.seedForeign({ name: 'admin_host', address: '192.0.2.10', groups: ['f2b_ssh'] });
    await e.f.seedForeign({ name: 'F2B_192.0.2.11', address: '192.0.2.11', groups: ['f2b_ssh'] });
    await e.f.otherPort.addToGroup({ name: 'f2b_ssh', family: 'IPv4' }, ['192.0.2.12']);
    const r = await oneShot({ action: 'flush', jail: 'sshd' });
    expect(r.code).toBe(0);
    expect(lines(r.out)).toEqual([
      'group f2b_ssh on main: removed 3 owned host(s), 3 other member(s) left alone',
      'group f2b_ssh6 on main: removed 0 owned host(s), 0 other member(s) left alone',
    ]);
    expect(members(e, 'f2b_ssh')).toEqual(['F2B_192.0.2.11', 'admin_host', 'other_f2b_192.0.2.12']);
    expect(
      e.f.em
        .dump()
        .hosts.map((h) => h.name)
        .sort(),
    ).toEqual(['F2B_192.0.2.11', 'admin_host', 'other_f2b_192.0.2.12']);
    expect(e.f.em.model.groupByName('f2b_ssh')).toBeDefined();
    // stop never deletes a group either.
    expect(await oneShot({ action: 'stop' })).toMatchObject({ code: 0, err: '' });
    expect(e.f.em.dump().groups.map((g) => g.name)).toContain('f2b_ssh');
  });
});

describe('one-shot command failures: non-zero, one line, no password', () => {
  it('authentication failure', async () => {
    const e = await setup({ password: 'not-the-password' });
    const r = await oneShot({ action: 'ban', jail: 'sshd', ip: '203.0.113.7' });
    expect(r.code).toBe(1);
    expect(lines(r.err)).toHaveLength(1);
    expect(r.err).toMatch(/^f2b-sophosxg: .*Authentication Failure/);
    expect(e.f.em.stats.authFailures).toBe(1);
    expect(e.f.em.model.hostCount).toBe(0);
  });

  it('unreachable firewall', async () => {
    const e = await setup();
    const port = e.f.em.port;
    await e.f.teardown();
    await writeFile(
      e.config,
      (await readFile(e.config, 'utf8')).replace(/url: .*/, `url: https://127.0.0.1:${port}/webconsole/APIController`),
    );
    const r = await oneShot({ action: 'check' });
    expect(r.code).toBe(1);
    expect(lines(r.err)).toHaveLength(1);
    expect(r.err).toMatch(/^f2b-sophosxg: cannot reach the firewall \(ECONNREFUSED/);
  });

  it.each(['999.1.1.1', 'example.org', '203.0.113.7/33', '010.1.1.1', 'fe80::1%eth0', ''])('invalid IP %j', async (ip) => {
    const e = await setup();
    const r = await oneShot({ action: 'ban', jail: 'sshd', ip });
    expect(r.code).toBe(2);
    expect(lines(r.err)).toHaveLength(1);
    expect(r.err).toMatch(/^f2b-sophosxg: .*(not an IPv4\/IPv6 address|needs --ip)/);
    expect(e.f.em.stats.requests).toBe(0);
  });

  it('no command output ever holds the password', async () => {
    const e = await setup();
    await oneShot({ action: 'start' });
    await oneShot({ action: 'ban', jail: 'sshd', ip: '203.0.113.7' });
    await oneShot({ action: 'check' });
    e.f.em.faults.http5xxRate = 1;
    expect((await oneShot({ action: 'flush' })).code).toBe(1);
    e.f.em.faults.http5xxRate = 0;
    await writeFile(join(e.dir, 'xg-password'), `${PASSWORD}x\n`);
    expect((await oneShot({ action: 'unban', jail: 'sshd', ip: '203.0.113.7' })).code).toBe(1);
    const all = e.printed.join('');
    expect(all).toContain('f2b-sophosxg: ');
    for (const form of [PASSWORD, encodeURIComponent(PASSWORD), PASSWORD.replace(/&/g, '&amp;').replace(/</g, '&lt;')]) {
      expect(all).not.toContain(form);
    }
  });
});

describe('action.d/sophosxg.conf', () => {
  /** `actionX = …` lines of [Definition], and the [Init] defaults. */
  async function parseAction(): Promise<{ definition: Record<string, string>; init: Record<string, string> }> {
    const text = await readFile(ACTION_FILE, 'utf8');
    const sections: Record<string, Record<string, string>> = {};
    let section = '';
    for (const line of text.split('\n')) {
      if (/^\s*(#|;|$)/.test(line)) continue;
      const head = /^\[(\w+)\]\s*$/.exec(line);
      if (head) {
        section = head[1] ?? '';
        continue;
      }
      const kv = /^(\w+)\s*=\s*(.*)$/.exec(line);
      if (!kv) throw new Error(`unexpected line in the action file: ${line}`);
      (sections[section] ??= {})[kv[1] ?? ''] = (kv[2] ?? '').trim();
    }
    return { definition: sections.Definition ?? {}, init: sections.Init ?? {} };
  }

  it('calls exactly the one-shot commands, with the config, the jail and the address', async () => {
    const { definition, init } = await parseAction();
    expect(Object.keys(definition).sort()).toEqual(['actionban', 'actioncheck', 'actionflush', 'actionstart', 'actionstop', 'actionunban']);
    for (const [key, cmd] of Object.entries(definition)) {
      const action = key.replace(/^action/, '');
      const ip = action === 'ban' || action === 'unban' ? ' --ip <ip>' : action === 'check' ? ' --groups-only' : '';
      expect(cmd).toBe(`f2b-sophosxg ${action} -c <config> --jail <name>${ip}`);
    }
    expect(init.config).toBe(DEFAULT_CONFIG);
  });

  it('its command lines drive a whole jail life cycle on the emulator', async () => {
    const e = await setup();
    const { definition } = await parseAction();
    const call = (key: string, ip = '') => {
      const line = (definition[key] ?? '').replace('<config>', e.config).replace('<name>', 'sshd').replace('<ip>', ip);
      const [bin, ...argv] = line.split(/\s+/);
      expect(bin).toBe('f2b-sophosxg');
      return cli(argv);
    };
    expect(await call('actionstart')).toMatchObject({ code: 0, err: '' });
    expect(
      e.f.em
        .dump()
        .groups.map((g) => g.name)
        .sort(),
    ).toEqual(['f2b_ssh', 'f2b_ssh6']);
    expect((await call('actionban', '203.0.113.7')).code).toBe(0);
    expect((await call('actionban', '2001:db8::7')).code).toBe(0);
    expect(await call('actioncheck')).toMatchObject({ code: 0, err: '' });
    expect((await call('actionunban', '2001:db8::7')).code).toBe(0);
    expect(members(e, 'f2b_ssh6')).toEqual([]);
    await e.f.seedForeign({ name: 'admin_host', address: '192.0.2.10', groups: ['f2b_ssh'] });
    expect((await call('actionflush')).code).toBe(0);
    expect(members(e, 'f2b_ssh')).toEqual(['admin_host']);
    expect(await call('actionstop')).toMatchObject({ code: 0, err: '' });
    expect(
      e.f.em
        .dump()
        .groups.map((g) => g.name)
        .sort(),
    ).toEqual(['f2b_ssh', 'f2b_ssh6']);

    const bad = await call('actionban', 'not-an-ip');
    expect(bad.code).toBe(2);
    expect(lines(bad.err)).toHaveLength(1);
    // fail2ban substituting an empty <ip> is refused the same way.
    const empty = await call('actionban', '');
    expect(empty.code).toBe(2);
    expect(lines(empty.err)).toEqual(['f2b-sophosxg: ban needs --ip ADDRESS']);
  });
});
