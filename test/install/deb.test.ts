// The Debian package as an operator gets it: `scripts/package.ts` builds the .deb once, lintian
// checks it, apt installs it on this machine, and the installed command runs with the system Node
// hidden (a private mount namespace binds /dev/null over it), then apt removes and purges it.
// Needs root and dpkg (CI is root on Debian); skipped with the reason otherwise. Built with gzip:
// the same files as `npm run package` (xz), in a fraction of the CPU time.
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { blockedBy } from '../helpers/blocked.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const PKG = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
const NAME = 'f2b-sophosxg';
const BIN = `/usr/bin/${NAME}`;
const LIB = `/usr/lib/${NAME}`;
const UNIT = `/usr/lib/systemd/system/${NAME}.service`;
const ACTION = '/etc/fail2ban/action.d/sophosxg.conf';
const EXAMPLE = `/usr/share/doc/${NAME}/config.example.yaml`;
const STATE = `/var/lib/${NAME}`;
const ENV = { ...process.env, DEBIAN_FRONTEND: 'noninteractive', NO_COLOR: '1' };

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function exec(cmd: string, args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 32 * 1024 * 1024, env: opts.env ?? ENV }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const has = (cmd: string) => exec('sh', ['-c', `command -v ${cmd}`]).then((r) => r.code === 0);

/**
 * argv for a command that cannot see the system Node: in a private mount namespace /dev/null is
 * bound over every node on this machine's PATH, and the command gets a minimal environment.
 */
let hideNode: ((argv: string[], env?: Record<string, string>) => string[]) | undefined;

async function nodeHider(): Promise<typeof hideNode> {
  const nodes = new Set<string>();
  for (const d of (process.env.PATH ?? '').split(':')) if (d && existsSync(join(d, 'node'))) nodes.add(realpathSync(join(d, 'node')));
  const mounts = [...nodes].map((n) => `mount --bind /dev/null ${n}`).join(' && ');
  const probe = await exec('unshare', ['-m', 'sh', '-c', `${mounts} && ! node --version 2>/dev/null`]);
  if (probe.code !== 0) return undefined;
  return (argv, env = {}) => {
    const vars = Object.entries({ PATH: '/usr/sbin:/usr/bin:/sbin:/bin', ...env }).map(([k, v]) => `${k}=${v}`);
    // exec keeps one process: a signal to the child reaches the program itself.
    return ['unshare', '-m', 'sh', '-c', `${mounts} && exec env -i "$@"`, 'sh', ...vars, ...argv];
  };
}

function hidden(argv: string[], env?: Record<string, string>, timeoutMs?: number): Promise<Result> {
  const full = hideNode
    ? hideNode(argv, env)
    : ['env', '-i', 'PATH=/nonexistent', ...Object.entries(env ?? {}).map(([k, v]) => `${k}=${v}`), ...argv];
  return exec(full[0]!, full.slice(1), { timeoutMs });
}

let skipReason: string | undefined;
let dir: string;
let deb: string;
let buildSeconds = 0;

beforeAll(async () => {
  if (process.getuid?.() !== 0) skipReason = 'not root: dpkg/apt cannot install the package';
  else if (!(await has('dpkg-deb')) || !(await has('apt-get'))) skipReason = 'no dpkg-deb/apt-get: not a Debian machine';
  if (skipReason) {
    console.warn(`install/deb: SKIPPED — ${skipReason}`);
    return;
  }
  dir = await mkdtemp(join(tmpdir(), 'f2b-deb-'));
  const t0 = Date.now();
  const built = await exec('npx', ['tsx', join(REPO, 'scripts', 'package.ts'), '--out', dir, '--compression', 'gzip'], {
    timeoutMs: 540_000,
  });
  buildSeconds = (Date.now() - t0) / 1000;
  if (built.code !== 0) throw new Error(`scripts/package.ts failed (${built.code}):\n${built.stderr.slice(-3000)}`);
  deb = built.stdout.trim().split('\n').pop() ?? '';
  hideNode = await nodeHider();
  if (!hideNode) console.warn('install/deb: cannot hide the system node with unshare; running with PATH=/nonexistent instead');
  // A leftover from an interrupted run would make "install" an upgrade.
  await exec('apt-get', ['purge', '-y', '-qq', NAME], { timeoutMs: 120_000 });
}, 600_000);

afterAll(async () => {
  if (skipReason) return;
  await exec('apt-get', ['purge', '-y', '-qq', NAME], { timeoutMs: 120_000 });
  if (dir) await rm(dir, { recursive: true, force: true });
}, 180_000);

function runnable(ctx: TestContext): void {
  if (skipReason) ctx.skip();
}

describe.sequential('the Debian package', () => {
  it('is named after package.json and the architecture, and lists the promised files', async (ctx) => {
    runnable(ctx);
    console.info(`install/deb: built ${deb} in ${buildSeconds.toFixed(1)} s`);
    const arch = (await exec('dpkg', ['--print-architecture'])).stdout.trim();
    expect(deb.endsWith(`/${NAME}_${PKG.version}-1_${arch}.deb`)).toBe(true);
    const files = (await exec('dpkg-deb', ['-c', deb])).stdout;
    for (const f of [
      BIN,
      `${LIB}/node`,
      `${LIB}/dist/src/cli/main.js`,
      UNIT,
      ACTION,
      EXAMPLE,
      `/usr/share/doc/${NAME}/copyright`,
      `/usr/share/man/man1/${NAME}.1.gz`,
    ]) {
      expect(files).toContain(` .${f}\n`);
    }
    expect((await exec('dpkg-deb', ['-f', deb, 'Version'])).stdout.trim()).toBe(`${PKG.version}-1`);
    const ctl = join(dir, 'control');
    await exec('dpkg-deb', ['-e', deb, ctl]);
    expect((await readFile(join(ctl, 'conffiles'), 'utf8')).trim()).toBe(ACTION);
  });

  it('lintian reports no error', async (ctx) => {
    runnable(ctx);
    if (!(await has('lintian'))) ctx.skip(); // .ci/install-deps.sh installs it
    const t0 = Date.now();
    const r = await exec('lintian', ['--tag-display-limit', '0', deb], { timeoutMs: 480_000 });
    console.info(`install/deb: lintian took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(
      r.stdout.split('\n').filter((l) => l.startsWith('E:')),
      r.stdout,
    ).toEqual([]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  }, 500_000);

  it('apt installs it without enabling or starting the service', async (ctx) => {
    runnable(ctx);
    const r = await exec('apt-get', ['install', '-y', '-qq', '--no-install-recommends', deb], { timeoutMs: 180_000 });
    expect(r.code, r.stderr).toBe(0);
    expect((await exec('dpkg-query', ['-W', '-f=${Status}', NAME])).stdout).toBe('install ok installed');
    for (const f of [BIN, `${LIB}/node`, UNIT, ACTION, EXAMPLE]) expect(existsSync(f), f).toBe(true);
    expect(existsSync(`/etc/systemd/system/multi-user.target.wants/${NAME}.service`)).toBe(false);
  }, 200_000);

  it('the installed files do not refer to this checkout or its node_modules', async (ctx) => {
    runnable(ctx);
    const modules = realpathSync(join(REPO, 'node_modules'));
    const files = (await readdir(LIB, { recursive: true, withFileTypes: true })).filter((e) => e.isFile() && e.name.endsWith('.js'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of [...files.map((e) => join(e.parentPath, e.name)), BIN, UNIT]) {
      const text = await readFile(f, 'utf8');
      expect(text.includes(REPO.replace(/\/$/, '')), f).toBe(false);
      expect(text.includes(modules), f).toBe(false);
    }
  });

  it('runs with the system Node hidden: --version, --help', async (ctx) => {
    runnable(ctx);
    if (hideNode) expect((await hidden(['sh', '-c', 'node --version'])).code).not.toBe(0);
    const v = await hidden([NAME, '--version']);
    expect(v.stdout.trim(), v.stderr).toBe(PKG.version);
    const h = await hidden([NAME, '--help']);
    expect(h.stdout).toMatch(/^Usage: f2b-sophosxg /m);
    for (const c of ['run', 'check', 'emulator', 'demo']) expect(h.stdout).toMatch(new RegExp(`^\\s+${c}\\b`, 'm'));
  });

  it('`demo` finds its bundled fail2ban log beside the program and plays it', async (ctx) => {
    runnable(ctx);
    const r = await hidden([NAME, 'demo', '--line-ms', '1', '--write-latency-ms', '1'], {}, 60_000);
    expect(r.stdout, r.stderr).toContain(`playing 188 lines of ${LIB}/demo/`);
    // The final state: the group, the object(s) holding its addresses (an IPList by default), the addresses.
    expect(r.stdout).toMatch(/^\s+f2b_blockings \(.*\): .*192\.0\.2\.10/m);
    expect(r.code).toBe(0);
  }, 70_000);

  it('`check --offline` accepts the shipped example config', async (ctx) => {
    runnable(ctx);
    const r = await hidden([NAME, 'check', '--offline', '-c', EXAMPLE]);
    expect(r.stdout, r.stderr).toMatch(/is valid: 1 firewall\(s\), 2 group\(s\)/);
    expect(r.code).toBe(0);
  });

  it('the installed unit passes `systemd-analyze verify` and runs /usr/bin/f2b-sophosxg', async (ctx) => {
    runnable(ctx);
    if (!(await has('systemd-analyze'))) ctx.skip();
    const unit = await readFile(UNIT, 'utf8');
    expect(unit).toMatch(/^ExecStart=\/usr\/bin\/f2b-sophosxg run /m);
    const r = await exec('systemd-analyze', ['verify', UNIT]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('`run` from the installed package mirrors a ban into the emulator', async (ctx) => {
    runnable(ctx);
    const emu = await startEmulator({ users: { api: 'pw' } });
    try {
      await shortRun(emu);
    } finally {
      await emu.close();
    }
  }, 60_000);

  it('apt remove deletes the program, keeps the conffile and the state; purge deletes those too', async (ctx) => {
    runnable(ctx);
    await mkdir(STATE, { recursive: true });
    await writeFile(join(STATE, 'state.json'), '{}');
    const rem = await exec('apt-get', ['remove', '-y', '-qq', NAME], { timeoutMs: 120_000 });
    expect(rem.code, rem.stderr).toBe(0);
    expect((await exec('dpkg-query', ['-W', '-f=${Status}', NAME])).stdout).toBe('deinstall ok config-files');
    for (const f of [BIN, LIB, UNIT, EXAMPLE]) expect(existsSync(f), f).toBe(false);
    expect(existsSync(ACTION)).toBe(true);
    expect(existsSync(join(STATE, 'state.json'))).toBe(true);
    const purge = await exec('apt-get', ['purge', '-y', '-qq', NAME], { timeoutMs: 120_000 });
    expect(purge.code, purge.stderr).toBe(0);
    expect((await exec('dpkg-query', ['-W', '-f=${Status}', NAME])).code).not.toBe(0);
    expect(existsSync(ACTION)).toBe(false);
    expect(existsSync(STATE)).toBe(false);
  }, 300_000);
});

async function shortRun(emu: Emulator): Promise<void> {
  const work = join(dir, 'run');
  await mkdir(work, { recursive: true });
  const log = join(work, 'fail2ban.log');
  await writeFile(log, '2026-11-25 04:39:52,876 fail2ban.actions        [10839]: NOTICE  [sshd] Ban 192.0.2.10\n');
  const config = join(work, 'config.yaml');
  await writeFile(
    config,
    [
      `log: { path: ${JSON.stringify(log)}, startAt: beginning }`,
      `stateDir: ${JSON.stringify(join(work, 'state'))}`,
      'firewalls:',
      '  emu:',
      `    url: ${emu.url}`,
      '    username: api',
      '    passwordEnv: XG_PASSWORD',
      `    tls: { fingerprint256: "${emu.fingerprint256}" }`,
      'groups:',
      '  - { name: f2b_test, firewall: emu, jails: ["*"] }',
      'batch: { windowMs: 100, maxSize: 50 }',
    ].join('\n'),
  );
  const argv = hideNode ? hideNode([NAME, 'run', '-c', config], { XG_PASSWORD: 'pw' }) : [BIN, 'run', '-c', config];
  const child = spawn(argv[0]!, argv.slice(1), {
    env: hideNode ? ENV : { PATH: '/nonexistent', XG_PASSWORD: 'pw' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && child.exitCode === null && !blockedBy(emu.model, 'f2b_test').includes('192.0.2.10')) {
    await new Promise((r) => setTimeout(r, 100));
  }
  // Lists (run's default) or per-address hosts: what the group blocks.
  const members = blockedBy(emu.model, 'f2b_test');
  child.kill('SIGTERM');
  const code = await exited;
  expect(members.includes('192.0.2.10'), output).toBe(true);
  expect(code, output).toBe(0);
}
