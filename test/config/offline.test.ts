// check --offline's warnings: inputs a valid config names but this machine lacks.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { offlineWarnings, parseConfig } from '../../src/config/index.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'f2b-offline-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const config = (password: string, log: string) =>
  parseConfig(
    [
      `log: { path: ${JSON.stringify(log)} }`,
      'firewalls:',
      `  main: { url: "https://192.0.2.1:4444/webconsole/APIController", username: api, ${password} }`,
      'groups:',
      '  - { name: f2b_ssh, firewall: main, jails: ["*"] }',
      '',
    ].join('\n'),
    'c.yaml',
  );

describe('offlineWarnings', () => {
  it('nothing to say when the password file and the log are there', async () => {
    const pw = join(dir, 'pw');
    const log = join(dir, 'fail2ban.log');
    await writeFile(pw, 'secret\n');
    await writeFile(log, '');
    expect(await offlineWarnings(config(`passwordFile: ${JSON.stringify(pw)}`, log), {})).toEqual([]);
    expect(await offlineWarnings(config('passwordEnv: XG_PW', log), { XG_PW: 'x' })).toEqual([]);
  });

  it('names a missing password file and a missing log, never a password', async () => {
    const pw = join(dir, 'nope-pw');
    const log = join(dir, 'nope.log');
    const w = await offlineWarnings(config(`passwordFile: ${JSON.stringify(pw)}`, log), {});
    expect(w).toHaveLength(2);
    expect(w[0]).toContain(`firewall main: cannot read the password file ${pw}: ENOENT`);
    expect(w[1]).toContain(`cannot read log.path ${log}: ENOENT`);
  });

  it('an unset passwordEnv, and a credential name outside systemd, are said as such', async () => {
    const log = join(dir, 'fail2ban.log');
    await writeFile(log, '');
    expect(await offlineWarnings(config('passwordEnv: XG_PW', log), {})).toEqual([
      expect.stringContaining('XG_PW (passwordEnv) is not set'),
    ]);
    expect(await offlineWarnings(config('passwordFile: xg-password', log), {})).toEqual([
      expect.stringContaining('systemd credential name; not checked'),
    ]);
    expect(await offlineWarnings(config('passwordFile: xg-password', log), { CREDENTIALS_DIRECTORY: dir })).toEqual([
      expect.stringContaining(`cannot read the password file ${join(dir, 'xg-password')}: ENOENT`),
    ]);
  });

  it.skipIf(process.getuid?.() === 0)('an unreadable log (permissions) is named too', async () => {
    const log = join(dir, 'locked.log');
    await writeFile(log, '');
    await chmod(log, 0o000);
    expect(await offlineWarnings(config('passwordEnv: XG_PW', log), { XG_PW: 'x' })).toEqual([expect.stringContaining('EACCES')]);
  });
});
