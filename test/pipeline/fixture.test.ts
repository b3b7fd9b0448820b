// The real fail2ban 1.0.2 captures, replayed line by line at their own pace (virtual time).
import { describe, expect, it } from 'vitest';
import { harness, type Harness } from './harness.js';
import { readFixture, type TimedLine } from './fixture.js';

async function replay(h: Harness, lines: readonly TimedLine[]): Promise<void> {
  for (const l of lines) {
    await h.clock.advanceTo(l.t);
    h.sidecar.push(l.event ? { event: l.event, checkpoint: l.checkpoint } : { checkpoint: l.checkpoint });
  }
}

const at = (lines: readonly TimedLine[], re: RegExp): number => {
  const l = lines.find((x) => re.test(x.line));
  if (!l) throw new Error(`no line matches ${re}`);
  return l.t;
};

describe('fail2ban-1.0.2-restart-unban-all-reload-unban.log', () => {
  it('restarts cause no firewall writes; real unbans are removed once their fate is known', async () => {
    const { lines } = await readFixture('fail2ban-1.0.2-restart-unban-all-reload-unban.log');
    const h = harness();
    await replay(h, lines);
    await h.clock.advance(120_000);
    // t=0 is 04:47:53,950. `restart sshd` (04:47:58–59) and the full restart (04:48:10–11): nothing.
    // `unban --all` (04:48:06) and `reload --unban` (04:48:08) are still held when the shutdown
    // begins (04:48:10,702 → 16752): real, removed in that window. The Unbans of `restart --unban`
    // (04:48:01) meet "Jail 'sshd' stopped" within 5 s (1.9 s later: indistinguishable from a
    // restart), so they are suspensions that end when the restarted jail does not restore them:
    // 60 s after the last `Jail 'sshd' started` (04:48:11,618 → 17668).
    expect(h.timedWrites()).toEqual([
      '4207 fw1 add f2b-v4 192.0.2.80',
      '4207 fw1 add f2b-v6 2001:db8::80',
      '12465 fw1 add f2b-v4 192.0.2.81,203.0.113.81',
      '14634 fw1 add f2b-v4 192.0.2.82',
      '17752 fw1 remove f2b-v4 192.0.2.81,192.0.2.82,203.0.113.81',
      '78668 fw1 remove f2b-v4 192.0.2.80',
      '78668 fw1 remove f2b-v6 2001:db8::80',
    ]);
    const restartSshd = [at(lines, /Reload jail sshd$/), at(lines, /Reload finished/)];
    expect(
      h.timedWrites().filter((w) => Number(w.split(' ')[0]) >= restartSshd[0]! && Number(w.split(' ')[0]) <= restartSshd[1]! + 1000),
    ).toEqual([]);
    expect(h.fw.hosts.size).toBe(0);
    expect(h.sidecar.model.size).toBe(0);
    // The last line's checkpoint is persisted.
    expect(h.sink.last?.checkpoint?.offset).toBe(lines.at(-1)!.checkpoint.offset);
  });
});

describe('fail2ban-1.0.2-full-cycle.log', () => {
  it('end to end: bans, expiries, manual unbans, jail stop/reload, full stop/start without churn', async () => {
    const { lines } = await readFixture('fail2ban-1.0.2-full-cycle.log');
    const h = harness();
    await replay(h, lines);
    await h.clock.advance(120_000);
    expect(h.writes()).toEqual([
      'fw1 add f2b-v4 192.0.2.10',
      'fw1 add f2b-v6 2001:db8::10',
      'fw1 add f2b-v4 203.0.113.7',
      'fw1 add f2b-v6 2001:db8:0:1::7',
      'fw1 remove f2b-v4 203.0.113.7', // expired (bantime 5 s)
      'fw1 add f2b-v4 203.0.113.7', // banned again (increment)…
      'fw1 remove f2b-v6 2001:db8:0:1::7', // …in the same window as this expiry
      'fw1 add f2b-v4 198.51.100.99',
      'fw1 add f2b-v6 2001:db8::99',
      'fw1 remove f2b-v4 203.0.113.7',
      'fw1 add f2b-v4 198.51.100.77',
      'fw1 remove f2b-v4 198.51.100.99', // manual unbanip
      'fw1 remove f2b-v6 2001:db8::99', // manual global unban
      // Expired at 04:40:33,289, still held when the shutdown began: a real unban.
      'fw1 remove f2b-v4 198.51.100.77',
      'fw1 add f2b-v4 203.0.113.66',
      'fw1 add f2b-v4 198.51.100.21',
      // Unbanned at 04:41:05,829 and still held when the final shutdown began (04:41:08,980).
      'fw1 remove f2b-v4 203.0.113.66',
    ]);
    // `stop webapp-auth` + `reload` (04:40:30–32) and the full stop/start (04:40:33,973–04:40:35,936):
    // nothing but the real unban of 198.51.100.77.
    const quiet = [at(lines, /\[webapp-auth\] Ban 198\.51\.100\.77/) + 1000, at(lines, /Ban 203\.0\.113\.66/)];
    expect(
      h.writes().filter((_, i) => {
        const t = Number(h.timedWrites()[i]!.split(' ')[0]);
        return t > quiet[0]! && t < quiet[1]!;
      }),
    ).toEqual(['fw1 remove f2b-v4 198.51.100.77']);
    // fail2ban was stopped at the end with three bans in its database: they stay blocked (suspended).
    expect(h.fw.memberAddresses('f2b-v4')).toEqual(['192.0.2.10', '198.51.100.21']);
    expect(h.fw.memberAddresses('f2b-v6')).toEqual(['2001:db8::10']);
    expect(h.sidecar.status().groups.map((g) => [g.group, g.desired, g.applied, g.suspended])).toEqual([
      ['f2b-v4', 2, 2, 2],
      ['f2b-v6', 1, 1, 1],
    ]);
  });
});
