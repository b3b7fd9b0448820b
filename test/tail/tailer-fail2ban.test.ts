// The tailer against Debian's real fail2ban: two rotations the Debian way (rename + create +
// `fail2ban-client flushlogs`), with a ban logged between rename and flushlogs. The tailer must
// deliver exactly the lines fail2ban wrote, in order, across the three files.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { fail2banAvailable, startFail2ban, type Fail2banSandbox } from '../helpers/fail2ban.js';
import { follow, stopAllFollowers, waitFor, type Follower } from './helpers.js';

const available = fail2banAvailable();
if (!available) console.warn('tailer-fail2ban: SKIPPED — fail2ban-server / /etc/fail2ban not installed');

describe.skipIf(!available)('following the log of a real fail2ban 1.0.2 through rotations', () => {
  let f2b: Fail2banSandbox;
  let f: Follower;

  beforeAll(async () => {
    f2b = await startFail2ban({ jails: ['sshd'] });
  });

  afterAll(async () => {
    stopAllFollowers();
    await f2b?.close();
  });

  it('delivers every line fail2ban wrote, the window ban before the rollover line', async () => {
    f = follow({ path: f2b.logPath, startAt: 'beginning' });
    await f2b.waitForLog(/Jail 'sshd' started/);
    const ban = async (ip: string): Promise<void> => {
      const res = await f2b.client('set', 'sshd', 'banip', ip);
      expect(res.code).toBe(0);
    };
    for (const [n, ip] of [
      [1, '203.0.113.66'],
      [2, '203.0.113.67'],
    ] as const) {
      await f2b.rotate({
        beforeFlush: async () => {
          await ban(ip);
          await f2b.waitForLog(new RegExp(`Ban ${ip.replace(/\./g, '\\.')}$`));
        },
      });
      await f2b.client('set', 'sshd', 'unbanip', ip);
      await f2b.waitForLog(new RegExp(`Unban ${ip.replace(/\./g, '\\.')}$`));
      await waitFor(() => f.lines.some((l) => l.line.endsWith(`Unban ${ip}`)), `rotation ${n} delivered`);
    }
    const written = await f2b.logLines();
    await waitFor(
      () => f.lines.length >= written.length,
      () => `${written.length} lines (have ${f.lines.length})`,
    );
    // fail2ban may log more after the snapshot; what it had written must be there, in order, once.
    expect(f.texts().slice(0, written.length)).toEqual(written);
    const texts = f.texts();
    for (const ip of ['203.0.113.66', '203.0.113.67']) {
      const banAt = texts.findIndex((l) => l.endsWith(`] Ban ${ip}`));
      const rolloverAfter = texts.findIndex((l, i) => i > banAt && l.includes('rollover performed on'));
      const unbanAt = texts.findIndex((l) => l.endsWith(`Unban ${ip}`));
      expect(banAt).toBeGreaterThan(-1);
      expect(rolloverAfter).toBeGreaterThan(banAt);
      expect(unbanAt).toBeGreaterThan(rolloverAfter);
    }
    expect(new Set(f.lines.map((l) => l.checkpoint.ino)).size).toBe(3);
    expect(f.warnings.map((w) => w.code)).toEqual(['ROTATED', 'ROTATED']);
  });
});
