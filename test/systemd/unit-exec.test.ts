// The unit's command lines exactly as systemd/f2b-sophosxg.service writes them, run without
// systemd: only the binary (the CLI through tsx) and the config path are substituted. The
// environment mimics the unit: the password as a credential in $CREDENTIALS_DIRECTORY, the log on
// the journal stream (JOURNAL_STREAM), working directory /.
import { spawn } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { blockedBy } from '../helpers/blocked.js';
import { unitCommandLines, unitValue, readUnit } from '../helpers/systemd-unit.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const UNIT_FILE = join(REPO, 'systemd/f2b-sophosxg.service');
const MAIN = join(REPO, 'src/cli/main.ts');
const UNIT_CONFIG = '/etc/f2b-sophosxg/config.yaml';
const PASSWORD = 'unit-exec-secret!';
// The tsx loader by absolute URL: the unit runs with working directory /, where `--import tsx` would not resolve.
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

interface Proc {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

let emu: Emulator;
let dir: string;
let config: string;
let logPath: string;
let env: NodeJS.ProcessEnv;

/** argv of a unit command line with the binary and the config path swapped in. */
function substitute(argv: readonly string[], configPath: string): [string, string[]] {
  expect(argv[0]).toBe('f2b-sophosxg');
  const args = argv.slice(1).map((a) => (a === UNIT_CONFIG ? configPath : a));
  expect(args).toContain(configPath);
  return [process.execPath, ['--import', TSX, MAIN, ...args]];
}

function start(argv: readonly string[], configPath = config) {
  const [cmd, args] = substitute(argv, configPath);
  const child = spawn(cmd, args, { cwd: '/', env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Proc = { code: null, signal: null, stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
  const exited = new Promise<Proc>((resolve) =>
    child.on('exit', (code, signal) => {
      out.code = code;
      out.signal = signal;
      resolve(out);
    }),
  );
  return { child, out, exited };
}

async function until(what: string, probe: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function f2bStamp(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())},${p(d.getMilliseconds(), 3)}`;
}

beforeAll(async () => {
  emu = await startEmulator({ users: { 'fail2ban-api': PASSWORD } });
  dir = await mkdtemp(join(tmpdir(), 'f2b-unit-exec-'));
  const creds = join(dir, 'credentials');
  await mkdir(creds);
  await writeFile(join(creds, 'xg-password'), `${PASSWORD}\n`, { mode: 0o600 });
  logPath = join(dir, 'fail2ban.log');
  await writeFile(logPath, '');
  config = join(dir, 'config.yaml');
  await writeFile(
    config,
    [
      `log: { path: ${JSON.stringify(logPath)}, startAt: beginning }`,
      `stateDir: ${JSON.stringify(join(dir, 'state'))}`,
      'firewalls:',
      '  main:',
      `    url: ${emu.url}`,
      '    username: fail2ban-api',
      // As in the unit's comments: a relative name is the systemd credential.
      '    passwordFile: xg-password',
      `    tls: { fingerprint256: "${emu.fingerprint256}" }`,
      'groups:',
      '  - { name: f2b_blockings, ipv6Name: f2b_blockings6, firewall: main, jails: ["*"] }',
      'batch: { windowMs: 200 }',
      '',
    ].join('\n'),
  );
  const { PATH, HOME } = process.env;
  env = { PATH, HOME, CREDENTIALS_DIRECTORY: creds, JOURNAL_STREAM: '8:4242' };
}, 30_000);

afterAll(async () => {
  await emu?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('systemd unit command lines, run without systemd', () => {
  const { execStart, execStartPre } = unitCommandLines(UNIT_FILE);

  it('ExecStartPre= (check --offline) accepts the config: exit 0', async () => {
    expect(execStartPre).toHaveLength(1);
    const res = await start(execStartPre[0] ?? []).exited;
    expect(res.stdout).toMatch(/is valid: 1 firewall\(s\), 2 group\(s\)/);
    expect(res.code).toBe(0);
  }, 60_000);

  it('ExecStartPre= fails the start on a broken config', async () => {
    const broken = join(dir, 'broken.yaml');
    await writeFile(broken, (await readFile(config, 'utf8')).replace('batch:', 'bacth:'));
    const res = await start(execStartPre[0] ?? [], broken).exited;
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/bacth/);
  }, 60_000);

  it('ExecStart= (run) converges on a logged ban, then SIGTERM stops it cleanly with exit 0 within TimeoutStopSec', async () => {
    const stopLimitMs = Number(unitValue(readUnit(UNIT_FILE), 'Service', 'TimeoutStopSec')) * 1000;
    expect(stopLimitMs).toBeGreaterThan(0);
    const p = start(execStart);
    try {
      await until('the sidecar to start', () => /INFO sidecar started /.test(p.out.stderr) || p.out.code !== null, 60_000);
      expect(p.out.code, p.out.stderr).toBeNull();
      await appendFile(logPath, `${f2bStamp(new Date())} fail2ban.actions        [4242]: NOTICE  [sshd] Ban 203.0.113.77\n`);
      await until('the ban on the firewall', () => blockedBy(emu.model, 'f2b_blockings').includes('203.0.113.77'));
      await until('the ban logged', () => /^<6>INFO ban applied .*203\.0\.113\.77/m.test(p.out.stderr));
    } finally {
      p.child.kill('SIGTERM');
    }
    const t0 = Date.now();
    const res = await Promise.race([
      p.exited,
      new Promise<undefined>((r) => setTimeout(() => r(undefined), stopLimitMs)).then(() => {
        p.child.kill('SIGKILL');
        return undefined;
      }),
    ]);
    expect(res, `not stopped within TimeoutStopSec=${stopLimitMs / 1000}s (systemd would SIGKILL)`).toBeDefined();
    expect(res?.signal).toBeNull();
    expect(res?.code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(stopLimitMs);
    // Journal format (JOURNAL_STREAM set): priority prefix, no own time stamp, no password.
    expect(p.out.stderr).toMatch(/^<6>INFO stopping: saving state/m);
    expect(p.out.stderr).toMatch(/^<6>INFO stopped$/m);
    expect(
      p.out.stderr
        .split('\n')
        .filter((l) => l !== '')
        .every((l) => /^<\d>[A-Z]+ /.test(l)),
    ).toBe(true);
    expect(p.out.stderr).not.toContain(PASSWORD);
    // The final state names the ban: a restart resumes from it.
    const state = JSON.parse(await readFile(join(dir, 'state', 'state.json'), 'utf8')) as { model: { entries: Record<string, unknown> } };
    expect(Object.keys(state.model.entries)).toContain('203.0.113.77');
  }, 120_000);
});
