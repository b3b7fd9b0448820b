/**
 * `plan` and `run --dry-run` against the HTTPS emulator with a real config, log and state dir:
 * the numbers and exit codes, the --json shape, reading from the state's checkpoint, and that
 * neither writes the state directory nor takes its lock (they run beside a held lock).
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { run as plan } from '../../src/cli/commands/plan.js';
import { run as runCmd } from '../../src/cli/commands/run.js';
import type { CliDeps } from '../../src/cli/deps.js';
import { stateCodec } from '../../src/pipeline/persisted.js';
import { acquireLock, StateStore } from '../../src/state/index.js';
import { standingBans } from '../../src/pipeline/standing.js';
import { DEFAULT_SUSPEND } from '../../src/pipeline/model.js';
import { jailMatches } from '../../src/core/glob.js';
import type { GroupRef } from '../../src/xg/port.js';
import { startFirewall, type FirewallFixture } from '../xg/emulator-fixture.js';

const FIXTURE = '/work/shared/fixtures/fail2ban/fail2ban-1.0.2-full-cycle.log';
const SSH: GroupRef = { name: 'f2b_ssh', family: 'IPv4' };
const SSH6: GroupRef = { name: 'f2b_ssh6', family: 'IPv6' };
const line = (jail: string, verb: string, ip: string, s = 0): string =>
  `2026-12-04 10:00:${String(s).padStart(2, '0')},123 fail2ban.actions        [4242]: NOTICE  [${jail}] ${verb} ${ip}\n`;

interface Env {
  f: FirewallFixture;
  dir: string;
  stateDir: string;
  logPath: string;
  config: string;
}
let env: Env | undefined;
afterEach(async () => {
  if (!env) return;
  await env.f.teardown();
  await rm(env.dir, { recursive: true, force: true });
  env = undefined;
});

async function setup(log: string, startAt: 'beginning' | 'end' = 'beginning'): Promise<Env> {
  const f = await startFirewall();
  const dir = await mkdtemp(join(tmpdir(), 'plan-test-'));
  const stateDir = join(dir, 'state');
  const logPath = join(dir, 'fail2ban.log');
  await writeFile(logPath, log);
  await writeFile(join(dir, 'pw'), 'admin\n', { mode: 0o600 });
  const config = join(dir, 'config.yaml');
  await writeFile(
    config,
    [
      'firewalls:',
      '  main:',
      `    url: ${f.em.url}`,
      '    username: admin',
      `    passwordFile: ${join(dir, 'pw')}`,
      '    tls:',
      `      fingerprint256: "${f.em.fingerprint256}"`,
      '    hostPrefix: f2b_',
      'groups:',
      '  - name: f2b_ssh',
      '    ipv6Name: f2b_ssh6',
      '    firewall: main',
      '    jails: [sshd]',
      `stateDir: ${stateDir}`,
      'log:',
      `  path: ${logPath}`,
      `  startAt: ${startAt}`,
      '',
    ].join('\n'),
  );
  env = { f, dir, stateDir, logPath, config };
  return env;
}

function capture(signal = new AbortController().signal): { deps: CliDeps; out: () => string; err: () => string } {
  const sink = (into: string[]) =>
    new Writable({
      write(chunk: Buffer | string, _enc, cb) {
        into.push(chunk.toString());
        cb();
      },
    });
  const out: string[] = [];
  const err: string[] = [];
  return {
    deps: { stdout: sink(out), stderr: sink(err), stdin: Readable.from([]), env: {}, cwd: tmpdir(), signal },
    out: () => out.join(''),
    err: () => err.join(''),
  };
}

/** Every file of the directory with its bytes and mtime: what "byte-identical" means here. */
async function snapshotDir(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(dir)).sort()) {
    const p = join(dir, name);
    const s = await stat(p);
    out[name] = `${s.mtimeMs} ${createHash('sha256')
      .update(await readFile(p))
      .digest('hex')}`;
  }
  return out;
}

describe('plan', () => {
  it('counts own adds, removes and unchanged per group (foreign members not counted); exit 4, then 0 once applied', async () => {
    const log = [
      line('sshd', 'Ban', '203.0.113.1', 1),
      line('sshd', 'Ban', '203.0.113.3', 2),
      line('sshd', 'Ban', '203.0.113.4', 3),
      line('sshd', 'Ban', '203.0.113.5', 4),
      line('sshd', 'Unban', '203.0.113.5', 5),
      line('sshd', 'Ban', '2001:db8::1', 6),
      line('other-jail', 'Ban', '198.51.100.1', 7),
    ].join('');
    const e = await setup(log);
    const port = e.f.client();
    await port.ensureGroup(SSH);
    await port.addToGroup(SSH, ['203.0.113.1', '203.0.113.2']);
    await e.f.seedForeign({ name: 'admin_host', address: '192.0.2.50', groups: [SSH.name] });
    const before = JSON.stringify(e.f.em.dump());

    const io = capture();
    expect(await plan({ config: e.config }, io.deps)).toBe(4);
    expect(io.out().trim().split('\n')).toEqual([
      `plan: read 7 line(s) of ${e.logPath} from its beginning (no state yet)`,
      'group f2b_ssh (IPv4) on main: add 2, remove 1, unchanged 1',
      '  add: 203.0.113.3, 203.0.113.4',
      '  remove: 203.0.113.2',
      'group f2b_ssh6 (IPv6) on main: add 1, remove 0, unchanged 0 (missing: would be created)',
      '  add: 2001:db8::1',
      'plan: 4 address change(s) in 2 of 2 group(s)',
    ]);
    // It wrote nothing to the firewall either.
    expect(JSON.stringify(e.f.em.dump())).toBe(before);

    const js = capture();
    expect(await plan({ config: e.config, json: true }, js.deps)).toBe(4);
    expect(JSON.parse(js.out())).toEqual({
      groups: [
        {
          firewall: 'main',
          group: 'f2b_ssh',
          family: 'IPv4',
          add: ['203.0.113.3', '203.0.113.4'],
          remove: ['203.0.113.2'],
          unchanged: 1,
          missing: false,
        },
        { firewall: 'main', group: 'f2b_ssh6', family: 'IPv6', add: ['2001:db8::1'], remove: [], unchanged: 0, missing: true },
      ],
    });

    await port.addToGroup(SSH, ['203.0.113.3', '203.0.113.4']);
    await port.removeFromGroup(SSH, ['203.0.113.2']);
    await port.ensureGroup(SSH6);
    await port.addToGroup(SSH6, ['2001:db8::1']);
    const done = capture();
    expect(await plan({ config: e.config }, done.deps)).toBe(0);
    expect(done.out()).toContain('group f2b_ssh (IPv4) on main: add 0, remove 0, unchanged 3');
    expect(done.out().trim().split('\n').at(-1)).toBe('plan: nothing would change');
  });

  it('on a real fail2ban log it wants exactly the bans the log leaves standing', async () => {
    const text = await readFile(FIXTURE, 'utf8');
    const e = await setup(text);
    const io = capture();
    const code = await plan({ config: e.config, json: true }, io.deps);
    const standing = await standingBans(
      text.split('\n'),
      {
        groups: [{ firewall: 'main', name: 'f2b_ssh', ipv6Name: 'f2b_ssh6', jails: ['sshd'] }],
        neverBlock: () => false,
        jailMatches,
        suspend: DEFAULT_SUSPEND,
      },
      'x',
    );
    const want = (fam: string) =>
      standing
        .filter((b) => b.jail === 'sshd' && b.family === fam)
        .map((b) => b.ip)
        .sort();
    const groups = (JSON.parse(io.out()) as { groups: { group: string; add: string[] }[] }).groups;
    expect(groups.find((g) => g.group === 'f2b_ssh')?.add).toEqual(want('IPv4'));
    expect(groups.find((g) => g.group === 'f2b_ssh6')?.add).toEqual(want('IPv6'));
    // Both groups are missing on a fresh emulator: something would change either way.
    expect(code).toBe(4);
  });

  it("reads from the state's checkpoint, with the state's bans; state dir byte-identical and its lock left to its holder", async () => {
    const first = line('sshd', 'Ban', '203.0.113.10', 1);
    const e = await setup(first + line('sshd', 'Ban', '203.0.113.11', 2), 'end');
    const st = await stat(e.logPath);
    const head = (await readFile(e.logPath)).subarray(0, Math.min(256, first.length));
    await new StateStore(e.stateDir, stateCodec).save({
      version: 1,
      model: { version: 1, stopping: false, entries: { '203.0.113.9': { sshd: { state: 'active', at: Date.now() } } } },
      checkpoint: {
        path: e.logPath,
        dev: st.dev,
        ino: st.ino,
        offset: Buffer.byteLength(first),
        head: createHash('sha256').update(head).digest('hex'),
      },
      savedAt: new Date().toISOString(),
    });
    const release = await acquireLock(e.stateDir); // the live sidecar
    try {
      const before = await snapshotDir(e.stateDir);
      const io = capture();
      expect(await plan({ config: e.config, json: true }, io.deps)).toBe(4);
      const groups = (JSON.parse(io.out()) as { groups: { group: string; add: string[] }[] }).groups;
      expect(groups[0]).toMatchObject({ group: 'f2b_ssh', add: ['203.0.113.11', '203.0.113.9'] });
      expect(await snapshotDir(e.stateDir)).toEqual(before);

      // run --dry-run beside the same held lock: prints the plan first, follows, writes nothing.
      const abort = new AbortController();
      const dry = capture(abort.signal);
      const running = runCmd({ config: e.config, dryRun: true, logLevel: 'warn' }, dry.deps);
      // run writes packed lists by default (issue 12), per-address hosts with objects: hosts.
      await until(() => /DRY-RUN (add|list (create|update) addresses\(\d+\)=\S+) group=f2b_ssh/.test(dry.out()));
      await appendFile(e.logPath, line('sshd', 'Ban', '203.0.113.12', 3));
      await until(() => dry.out().includes('203.0.113.12'));
      abort.abort();
      expect(await running).toBe(0);
      const out = dry.out().split('\n');
      expect(out[0]).toMatch(/^plan: read 1 line\(s\) of .* from the state's checkpoint$/);
      expect(out[1]).toBe('group f2b_ssh (IPv4) on main: add 2, remove 0, unchanged 0 (missing: would be created)');
      expect(await snapshotDir(e.stateDir)).toEqual(before);
      expect(e.f.em.model.hostCount).toBe(0);
    } finally {
      await release();
    }
  });
});

async function until(cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
