// Self-test of test/helpers/fail2ban.ts against Debian's real fail2ban (installed by
// .ci/install-deps.sh). Checks that the sandbox produces the log sequences the sidecar relies on
// (reference: shared/reference/fail2ban-log.md §7, §8, §10) and that it never leaves a server behind.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fail2banAvailable, parsePythonLiteral, startFail2ban, SANDBOX_MAXRETRY, type Fail2banSandbox } from '../helpers/fail2ban.js';

const available = fail2banAvailable();
if (!available) {
  console.warn('fail2ban-harness: SKIPPED — fail2ban-server / /etc/fail2ban not installed (run .ci/install-deps.sh as root)');
}

const FIXTURES = fileURLToPath(new URL('../../../shared/fixtures/fail2ban/', import.meta.url));
const HELPER = fileURLToPath(new URL('../helpers/fail2ban.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../../', import.meta.url));

// Second field of the captured client file = the command's output (first line is the command).
function capturedOutput(rel: string): string {
  const lines = readFileSync(join(FIXTURES, 'client', rel), 'utf8').split('\n');
  return lines
    .slice(
      1,
      lines.findIndex((l) => l.startsWith('[exit code:')),
    )
    .join('\n');
}

/** A zombie (unreaped, state Z) counts as gone: it no longer runs or holds files. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z /.test(stat);
  } catch {
    return false;
  }
}

async function waitGone(pid: number, timeoutMs = 15_000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (!running(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !running(pid);
}

describe('parsePythonLiteral (fail2ban-client output)', () => {
  it('reads the captured `banned` output', () => {
    const v = parsePythonLiteral(capturedOutput('client-banned.txt'));
    expect(v).toEqual([
      new Map([['sshd', ['192.0.2.10', '2001:db8::10']]]),
      new Map([['webapp-auth', ['bad-host.example', '2001:db8:0:1::7']]]),
    ]);
  });

  it('reads the captured `banned IP…` output and quotes/escapes inside IDs', () => {
    expect(parsePythonLiteral(capturedOutput('client-banned-ips.txt'))).toEqual([['sshd'], ['webapp-auth'], []]);
    expect(parsePythonLiteral(`["it's", 'a\\\\b', 'b\\xe4d', -1, []]`)).toEqual(["it's", 'a\\b', 'bäd', -1, []]);
    expect(() => parsePythonLiteral("['unterminated]")).toThrow(/unterminated/);
    expect(() => parsePythonLiteral("['a'] x")).toThrow(/trailing/);
  });
});

describe.skipIf(!available)('real fail2ban sandbox (Debian fail2ban-server)', () => {
  let sb: Fail2banSandbox;
  const BANTIME = 6;

  beforeAll(async () => {
    sb = await startFail2ban({ bantimeSec: BANTIME, jailBantimeSec: { sshd: 600 } });
  });
  afterAll(async () => {
    await sb?.close();
  });

  it('runs its own server: private pid file, log target and both jails', async () => {
    expect(sb.pid).toBeTypeOf('number');
    expect(Number((await readFile(sb.pidFile, 'utf8')).trim())).toBe(sb.pid);
    const target = await sb.client('get', 'logtarget');
    expect(target.code).toBe(0);
    expect(target.stdout).toContain(sb.logPath);
    const status = await sb.client('status');
    expect(status.stdout).toMatch(/Jail list:\s+sshd, webapp-auth/);
    // allowipv6 is set in the sandbox's fail2ban.local, so the client has nothing to warn about.
    expect(status.stderr).toBe('');
    await sb.waitForLog(/fail2ban\.jail +\[\d+\]: INFO +Jail 'sshd' started$/);
    await sb.waitForLog(/Jail 'webapp-auth' started$/);
  });

  it('bans an IPv4 (sshd) and an IPv6 (webapp-auth) address after maxretry failures', async () => {
    const since = await sb.logMark();
    await sb.failures('sshd', '192.0.2.10', SANDBOX_MAXRETRY.sshd);
    await sb.failures('webapp-auth', '2001:db8::7', SANDBOX_MAXRETRY['webapp-auth']);
    const v4 = await sb.waitForLog(/NOTICE +\[sshd\] Ban 192\.0\.2\.10$/, 15_000, since);
    await sb.waitForLog(/NOTICE +\[webapp-auth\] Ban 2001:db8::7$/, 15_000, since);
    expect(v4).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} fail2ban\.actions +\[\d+\]: NOTICE /);
    const banned = await sb.banned();
    expect(banned.get('sshd')).toContain('192.0.2.10');
    expect(banned.get('webapp-auth')).toContain('2001:db8::7');
    // Debian's dummy action wrote into the sandbox, not into any packet filter.
    expect(await readFile(sb.dummyTarget, 'utf8')).toMatch(/^\+192\.0\.2\.10$/m);
  });

  it('ignores loopback and does not ban below maxretry', async () => {
    const since = await sb.logMark();
    await sb.failures('sshd', '127.0.0.1', SANDBOX_MAXRETRY.sshd);
    await sb.failures('sshd', '198.51.100.20', SANDBOX_MAXRETRY.sshd - 1);
    await sb.waitForLog(/\[sshd\] Ignore 127\.0\.0\.1 by /, 15_000, since);
    await sb.waitForLog(/\[sshd\] Found 198\.51\.100\.20 /, 15_000, since);
    const banned = await sb.banned();
    expect(banned.get('sshd')).not.toContain('127.0.0.1');
    expect(banned.get('sshd')).not.toContain('198.51.100.20');
  });

  it('manual set JAIL banip / unbanip', async () => {
    const since = await sb.logMark();
    const ban = await sb.client('set', 'sshd', 'banip', '198.51.100.99', '2001:db8::99');
    expect(ban).toMatchObject({ code: 0, stdout: '2\n' });
    await sb.waitForLog(/\[sshd\] Ban 198\.51\.100\.99$/, 15_000, since);
    await sb.waitForLog(/\[sshd\] Ban 2001:db8::99$/, 15_000, since);
    expect((await sb.banned()).get('sshd')).toEqual(expect.arrayContaining(['198.51.100.99', '2001:db8::99']));
    const unban = await sb.client('set', 'sshd', 'unbanip', '198.51.100.99');
    expect(unban.code).toBe(0);
    await sb.waitForLog(/\[sshd\] Unban 198\.51\.100\.99$/, 15_000, since);
    expect((await sb.banned()).get('sshd')).not.toContain('198.51.100.99');
  });

  it('unbans by expiry after bantime', async () => {
    const since = await sb.logMark();
    await sb.failures('webapp-auth', '203.0.113.7', SANDBOX_MAXRETRY['webapp-auth']);
    await sb.waitForLog(/\[webapp-auth\] Ban 203\.0\.113\.7$/, 15_000, since);
    expect((await sb.banned()).get('webapp-auth')).toContain('203.0.113.7');
    await sb.waitForLog(/NOTICE +\[webapp-auth\] Unban 203\.0\.113\.7$/, (BANTIME + 10) * 1000, since);
    expect((await sb.banned()).get('webapp-auth')).not.toContain('203.0.113.7');
  });

  it('rotate(): lines between rename and flushlogs go to the old file, then "rollover performed on"', async () => {
    await sb.rotate({
      beforeFlush: async () => {
        expect((await sb.client('set', 'sshd', 'banip', '203.0.113.66')).code).toBe(0);
        await sb.waitForLog(/\[sshd\] Ban 203\.0\.113\.66$/);
      },
    });
    const old = await readFile(`${sb.logPath}.1`, 'utf8');
    const current = await readFile(sb.logPath, 'utf8');
    // Not necessarily the last line: an earlier short ban may expire before flushlogs.
    expect(old).toMatch(/\[sshd\] Ban 203\.0\.113\.66\n/);
    expect(current.split('\n')[0]).toMatch(/fail2ban\.server +\[\d+\]: INFO +rollover performed on .*fail2ban\.log$/);
    expect(current).not.toContain('Ban 203.0.113.66');
    // The history API spans both files.
    const all = await sb.logLines();
    expect(all.findIndex((l) => l.includes('rollover performed on'))).toBeGreaterThan(all.findIndex((l) => l.endsWith('Ban 203.0.113.66')));
  });

  it('stop logs the stop-Unbans, start restores the bans from its sqlite db (new PID)', async () => {
    // fail2ban restores with the CONFIGURED bantime (sshd: 600 s above), not this runtime one; kept
    // to show the runtime value does not matter.
    expect((await sb.client('set', 'sshd', 'bantime', '600')).code).toBe(0);
    expect((await sb.client('set', 'sshd', 'banip', '198.51.100.50')).code).toBe(0);
    const oldPid = sb.pid;
    const since = await sb.logMark();
    await sb.stop();
    expect(sb.pid).toBeUndefined();
    expect(await waitGone(oldPid ?? -1)).toBe(true);
    const stopLines = (await sb.logLines()).slice(since);
    expect(stopLines.some((l) => l.endsWith('[sshd] Unban 198.51.100.50'))).toBe(true);
    expect(stopLines.at(-1)).toMatch(/Exiting Fail2ban$/);
    expect((await sb.client('ping')).code).toBe(255);

    await sb.start();
    expect(sb.pid).not.toBe(oldPid);
    const restore = await sb.waitForLog(/NOTICE +\[sshd\] Restore Ban 198\.51\.100\.50$/, 15_000, since);
    expect(restore).toContain(`[${sb.pid}]`);
    expect((await sb.banned()).get('sshd')).toContain('198.51.100.50');
  });

  it('reload keeps bans and logs "Reload finished."', async () => {
    const since = await sb.logMark();
    await sb.reload();
    const lines = (await sb.logLines()).slice(since);
    expect(lines.some((l) => l.endsWith('Reload all jails'))).toBe(true);
    expect(lines.some((l) => /Unban /.test(l))).toBe(false);
    expect((await sb.banned()).get('sshd')).toContain('198.51.100.50');
  });
});

describe.skipIf(!available)('fail2ban sandbox cleanup', () => {
  it('close() stops the server and removes the scratch dir', async () => {
    const sb = await startFail2ban({ jails: ['webapp-auth'] });
    const pid = sb.pid ?? -1;
    expect(running(pid)).toBe(true);
    expect((await sb.client('status')).stdout).toMatch(/Jail list:\s+webapp-auth$/m);
    await sb.close();
    expect(await waitGone(pid)).toBe(true);
    expect(existsSync(sb.dir)).toBe(false);
    await sb.close(); // idempotent
  });

  // A test process that dies without calling close(): by process.exit (exit hook) or by SIGKILL
  // (setpriv --pdeathsig). Either way the server must not survive it.
  for (const how of ['exit', 'SIGKILL'] as const) {
    it(`kills the server when the test process ends by ${how} without close()`, async () => {
      const tmp = await mkdtemp(join(tmpdir(), 'f2b-orphan-'));
      let info: { pid: number; dir: string } | undefined;
      try {
        const script = join(tmp, 'orphan.mts');
        await writeFile(
          script,
          `import { startFail2ban } from ${JSON.stringify(HELPER)};\n` +
            `const sb = await startFail2ban({ jails: ['sshd'] });\n` +
            `process.stdout.write(JSON.stringify({ pid: sb.pid, dir: sb.dir }) + '\\n');\n` +
            // Exits (as a failed test run would) when told to, so the server is seen alive first.
            `process.stdin.once('data', () => process.exit(1));\n`,
        );
        const child = spawn(process.execPath, ['--import', 'tsx', script], {
          cwd: REPO,
          stdio: ['pipe', 'pipe', 'inherit'],
        });
        let out = '';
        child.stdout.setEncoding('utf8');
        info = await new Promise<{ pid: number; dir: string }>((resolve, reject) => {
          child.stdout.on('data', (c: string) => {
            out += c;
            if (out.includes('\n')) resolve(JSON.parse(out) as { pid: number; dir: string });
          });
          child.once('exit', (code) => reject(new Error(`orphan script exited (${code}) before reporting: ${out}`)));
        });
        expect(running(info.pid)).toBe(true);
        // The exit hook runs inside the orphan: its tree removal ends when the orphan does, not
        // when the server does.
        const ended = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        if (how === 'SIGKILL') child.kill('SIGKILL');
        else child.stdin.write('exit\n');
        expect(await waitGone(info.pid)).toBe(true);
        await ended;
        // The exit hook also removes the scratch dir; after SIGKILL nothing can.
        if (how === 'exit') expect(existsSync(info.dir)).toBe(false);
      } finally {
        if (info) {
          if (running(info.pid)) process.kill(info.pid, 'SIGKILL');
          await rm(info.dir, { recursive: true, force: true });
        }
        await rm(tmp, { recursive: true, force: true });
      }
    });
  }
});
