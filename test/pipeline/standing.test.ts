/**
 * standingBans: an old log through the pipeline's model on the file's own clock (replay's first
 * step). Expectations come from the captures' step notes, not from the code.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { jailMatches } from '../../src/core/glob.js';
import { makeNeverBlock } from '../../src/core/network.js';
import { DEFAULT_SUSPEND } from '../../src/pipeline/model.js';
import { standingBans } from '../../src/pipeline/standing.js';

const FIXTURES = fileURLToPath(new URL('../../../shared/fixtures/fail2ban/', import.meta.url));

const opts = {
  groups: [{ firewall: 'xg', name: 'v4', ipv6Name: 'v6', jails: ['*'] }],
  neverBlock: makeNeverBlock(['127.0.0.0/8', '10.0.0.0/8']),
  jailMatches,
  suspend: DEFAULT_SUSPEND,
};

const line = (time: string, msg: string) => `2026-11-25 ${time},000 fail2ban.actions        [42]: NOTICE  ${msg}`;

async function* slowly(lines: readonly string[]): AsyncGenerator<string> {
  for (const l of lines) {
    await Promise.resolve();
    yield l;
  }
}

const shape = (bans: { jail?: string; ip?: string; family?: string }[]) => new Set(bans.map((b) => `${b.jail} ${b.ip} ${b.family}`));

describe('standingBans', () => {
  it('the real full-cycle capture leaves the three sshd bans that fail2ban suspended at its final stop', async () => {
    const text = await readFile(join(FIXTURES, 'fail2ban-1.0.2-full-cycle.log'), 'utf8');
    const bans = await standingBans(text.split('\n'), opts, 'full-cycle.log');
    // From the capture's steps: 203.0.113.7, 2001:db8:0:1::7 and 198.51.100.77 were unbanned for
    // real; 203.0.113.66 was banned and unbanned by hand; the final stop's Unbans are stop-Unbans.
    expect(shape(bans)).toEqual(new Set(['sshd 192.0.2.10 IPv4', 'sshd 2001:db8::10 IPv6', 'sshd 198.51.100.21 IPv4']));
    expect(bans.every((b) => b.type === 'ban' && b.raw === '(replay of full-cycle.log)')).toBe(true);
  });

  it('takes lines from a stream, one at a time, with the same result as from an array', async () => {
    const text = await readFile(join(FIXTURES, 'fail2ban-1.0.2-full-cycle.log'), 'utf8');
    const lines = text.split('\n');
    expect(shape(await standingBans(slowly(lines), opts, 'x'))).toEqual(shape(await standingBans(lines, opts, 'x')));
  });

  it("an Unban lifts its Ban once the file's clock has passed its stop window; the other bans and families stand", async () => {
    const bans = await standingBans(
      [
        line('04:00:00', '[sshd] Ban 192.0.2.1'),
        line('04:00:01', '[sshd] Ban 192.0.2.2'),
        line('04:00:02', '[sshd] Ban 2001:db8::5'),
        line('04:10:00', '[sshd] Unban 192.0.2.1'),
        // The file's clock moves on past the Unban's stop window (5 s): it is final, not a jail stop.
        line('04:20:00', '[sshd] Ban 192.0.2.3'),
      ],
      opts,
      'x',
    );
    expect(shape(bans)).toEqual(new Set(['sshd 192.0.2.2 IPv4', 'sshd 2001:db8::5 IPv6', 'sshd 192.0.2.3 IPv4']));
  });

  it('never reports a never-block address or a line that is not an event', async () => {
    const bans = await standingBans(
      [line('04:00:00', '[sshd] Ban 10.1.2.3'), 'Traceback (most recent call last):', '', line('04:00:01', '[sshd] Ban 192.0.2.9')],
      opts,
      'x',
    );
    expect(shape(bans)).toEqual(new Set(['sshd 192.0.2.9 IPv4']));
  });
});
