// Lint of systemd/f2b-sophosxg.service: the hardening it promises, the command lines it runs, and —
// where systemd-analyze exists (installed by .ci/install-deps.sh) — systemd's own verdict on it.
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseUnit, readUnit, splitExecLine, unitCommandLines, unitValue, unitValues, type Unit } from '../helpers/systemd-unit.js';

const UNIT_FILE = fileURLToPath(new URL('../../systemd/f2b-sophosxg.service', import.meta.url));
const SECURITY_TXT = fileURLToPath(new URL('../../systemd/SECURITY.txt', import.meta.url));
const PACKAGE_JSON = fileURLToPath(new URL('../../package.json', import.meta.url));
const CONFIG = '/etc/f2b-sophosxg/config.yaml';
const MAX_EXPOSURE = 2.0;

const analyzeAvailable = spawnSync('systemd-analyze', ['--version'], { stdio: 'ignore' }).status === 0;
if (!analyzeAvailable) {
  console.warn('systemd unit: systemd-analyze checks SKIPPED — not installed (run .ci/install-deps.sh as root)');
}

describe('systemd unit reader', () => {
  it('parses sections, repeated keys, comments and continuation lines', () => {
    const unit = parseUnit(
      '# c\n[Unit]\nDescription=x = y\n\n[Service]\nEnvironment=A=1\n; c\nEnvironment=B=2 \\\n# inner comment\n  C=3\nExecStart=\n',
    );
    expect(unitValue(unit, 'Unit', 'Description')).toBe('x = y');
    expect(unitValues(unit, 'Service', 'Environment')).toEqual(['A=1', 'B=2 C=3']);
    expect(unitValues(unit, 'Service', 'ExecStart')).toEqual(['']);
    expect(() => parseUnit('Orphan=1\n')).toThrow(/inside a section/);
  });

  it('splits exec lines like systemd (prefixes, quotes, escapes)', () => {
    expect(splitExecLine('-/usr/bin/x run -c "/etc/a b.yaml"')).toEqual(['/usr/bin/x', 'run', '-c', '/etc/a b.yaml']);
    expect(splitExecLine("+!x 'it''s' a\\ b \"q\\\"\"")).toEqual(['x', 'its', 'a b', 'q"']);
    expect(splitExecLine('x ""')).toEqual(['x', '']);
    expect(() => splitExecLine('x "open')).toThrow(/unterminated/);
  });
});

describe('systemd/f2b-sophosxg.service', () => {
  const unit: Unit = readUnit(UNIT_FILE);
  const svc = (key: string): string | undefined => unitValue(unit, 'Service', key);

  it('runs the CLI with `check --offline` first, on the same config', () => {
    const { execStart, execStartPre } = unitCommandLines(UNIT_FILE);
    const pkg = JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { bin: Record<string, string> };
    // A bare name that systemd resolves in its search path, and the name npm installs.
    expect(execStart[0]).toBe('f2b-sophosxg');
    expect(Object.keys(pkg.bin)).toContain(execStart[0]);
    expect(execStart.slice(1)).toEqual(['run', '-c', CONFIG]);
    expect(execStartPre).toEqual([['f2b-sophosxg', 'check', '--offline', '-c', CONFIG]]);
    expect(svc('Restart')).toBe('on-failure');
    expect(svc('RestartSec')).toBe('5');
  });

  it('gets the password as a credential, never from the environment', () => {
    expect(svc('LoadCredential')).toBe('xg-password:/etc/f2b-sophosxg/xg-password');
    expect(unitValues(unit, 'Service', 'Environment').join(' ')).not.toMatch(/pass/i);
    expect(unitValues(unit, 'Service', 'EnvironmentFile')).toEqual([]);
  });

  it('runs unprivileged with read access to fail2ban.log through group adm', () => {
    expect(svc('DynamicUser')).toBe('yes');
    expect(svc('User')).toBeUndefined();
    expect(svc('SupplementaryGroups')).toBe('adm');
    expect(svc('StateDirectory')).toBe('f2b-sophosxg');
    expect(svc('StateDirectoryMode')).toBe('0700');
    expect(svc('UMask')).toBe('0077');
    // In a private user namespace group adm would be unmapped.
    expect(svc('PrivateUsers') ?? 'no').toBe('no');
  });

  it('sets every promised hardening option', () => {
    const expected: Record<string, string> = {
      NoNewPrivileges: 'yes',
      CapabilityBoundingSet: '',
      AmbientCapabilities: '',
      ProtectSystem: 'strict',
      ProtectHome: 'yes',
      PrivateTmp: 'yes',
      PrivateDevices: 'yes',
      DevicePolicy: 'closed',
      ProtectKernelTunables: 'yes',
      ProtectKernelModules: 'yes',
      ProtectKernelLogs: 'yes',
      ProtectControlGroups: 'yes',
      ProtectClock: 'yes',
      ProtectHostname: 'yes',
      ProtectProc: 'invisible',
      RestrictAddressFamilies: 'AF_INET AF_INET6 AF_UNIX',
      RestrictNamespaces: 'yes',
      RestrictRealtime: 'yes',
      RestrictSUIDSGID: 'yes',
      LockPersonality: 'yes',
      SystemCallArchitectures: 'native',
      SystemCallErrorNumber: 'EPERM',
    };
    const missing = Object.entries(expected).filter(([k, v]) => svc(k) !== v);
    expect(missing).toEqual([]);
    expect(unitValues(unit, 'Service', 'SystemCallFilter')).toEqual(['@system-service', '~@privileged @resources']);
    // V8's JIT needs W+X memory: the unit must not switch this on (it would kill node at startup).
    expect(svc('MemoryDenyWriteExecute')).toBe('no');
  });

  describe.skipIf(!analyzeAvailable)('systemd-analyze (offline, no running systemd needed)', () => {
    let dir: string;
    let unitCopy: string;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'f2b-unit-'));
      // verify insists that the command exists: swap in `true`, keeping the bare-name form so the
      // search-path resolution is checked too.
      const text = readFileSync(UNIT_FILE, 'utf8').replace(/^(ExecStart(?:Pre)?=)f2b-sophosxg /gm, '$1true ');
      expect(text).not.toMatch(/^ExecStart(?:Pre)?=f2b-sophosxg/m);
      unitCopy = join(dir, 'f2b-sophosxg.service');
      await writeFile(unitCopy, text);
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('`systemd-analyze verify` accepts the unit without any warning', async () => {
      const res = await analyze(['verify', unitCopy]);
      expect(res.stderr).toBe('');
      expect(res.code).toBe(0);
    });

    it('`verify` warnings are caught (control: an unknown key makes stderr non-empty)', async () => {
      const bad = join(dir, 'bad', 'f2b-sophosxg.service');
      await mkdir(join(dir, 'bad'));
      await writeFile(bad, readFileSync(unitCopy, 'utf8').replace(/^\[Service\]$/m, '[Service]\nProtectSytem=strict'));
      const res = await analyze(['verify', bad]);
      expect(res.stderr).toMatch(/Unknown key.*ProtectSytem/);
    });

    it(`\`systemd-analyze security --offline=yes\` exposure <= ${MAX_EXPOSURE}, as recorded in SECURITY.txt`, async () => {
      const res = await analyze(['security', '--offline=yes', `--threshold=${MAX_EXPOSURE * 10}`, unitCopy]);
      const m = /Overall exposure level for f2b-sophosxg\.service: (\d+\.\d+) (\S+)/.exec(res.stdout);
      expect(m, res.stdout + res.stderr).not.toBeNull();
      const exposure = Number(m?.[1]);
      expect(exposure).toBeLessThanOrEqual(MAX_EXPOSURE);
      expect(res.code).toBe(0);
      // The figure handed to the README must be the current one.
      const recorded = /^# Overall exposure: (\d+\.\d+) /m.exec(readFileSync(SECURITY_TXT, 'utf8'));
      expect(Number(recorded?.[1])).toBe(exposure);
    });
  });
});

function analyze(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // SYSTEMD_COLORS=0: plain text to parse; no pager without a terminal anyway.
    const env = { ...process.env, SYSTEMD_COLORS: '0', SYSTEMD_PAGER: 'cat' };
    execFile('systemd-analyze', args, { env, encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        reject(err);
        return;
      }
      resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
    });
  });
}
