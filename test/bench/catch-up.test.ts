import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bannedAddresses } from '../../bench/catch-up.js';
import { generateLog } from '../../bench/gen-log.js';
import { parseLine } from '../../src/parser/index.js';

describe('bannedAddresses (what the catch-up bench puts on the fake firewall)', () => {
  it('every address of a Ban or Restore Ban, by family; not Unban, Found or Increase Ban', () => {
    const text = [
      '2026-01-01 00:00:00,000 fail2ban.actions        [1]: NOTICE  [sshd] Ban 192.0.2.1',
      '2026-01-01 00:00:00,000 fail2ban.actions        [1]: NOTICE  [sshd] Restore Ban 2001:db8::1',
      '2026-01-01 00:00:00,000 fail2ban.actions        [1]: NOTICE  [sshd] Unban 192.0.2.2',
      '2026-01-01 00:00:00,000 fail2ban.filter         [1]: INFO    [sshd] Found 192.0.2.3 - 2026-01-01 00:00:00',
      '2026-01-01 00:00:00,000 fail2ban.observer       [1]: NOTICE  [sshd] Increase Ban 192.0.2.4 (2 # 2h -> 2026-01-01 02:00:00)',
      '2026-01-01 00:00:00,000 fail2ban.actions        [1]: NOTICE  [web] Ban 192.0.2.1',
    ].join('\n');
    expect(bannedAddresses(text)).toEqual({ v4: ['192.0.2.1'], v6: ['2001:db8::1'] });
  });

  it('on a generated log: a superset of the addresses the parser reports banned', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'f2b-bench-test-'));
    try {
      const path = join(dir, 'f.log');
      generateLog(path, 20_000);
      const text = await readFile(path, 'utf8');
      const held = bannedAddresses(text);
      const all = new Set([...held.v4, ...held.v6]);
      let bans = 0;
      for (const line of text.split('\n')) {
        const r = parseLine(line);
        if (r.kind !== 'event' || (r.event.type !== 'ban' && r.event.type !== 'restore-ban') || r.event.ip === undefined) continue;
        bans++;
        expect(all.has(r.event.ip), r.event.ip).toBe(true);
      }
      expect(bans).toBeGreaterThan(1000);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
