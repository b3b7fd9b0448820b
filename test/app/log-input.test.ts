import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { toPipelineInput } from '../../src/app/log-input.js';
import type { TailLine } from '../../src/tail/index.js';

const line = (text: string, offset: number): TailLine => ({ line: text, checkpoint: { path: '/l', dev: 1, ino: 2, offset, head: 'h' } });
const BAN = '2026-11-25 04:39:52,876 fail2ban.actions        [4242]: NOTICE  [sshd] Ban 198.51.100.7';
const BAD = '2026-11-25 04:39:53,000 fail2ban.actions        [4242]: NOTICE  [sshd] Ban 999.1.1.1';
const NOISE = '2026-11-25 04:39:54,000 fail2ban.filter         [4242]: INFO    [sshd] Found 198.51.100.7 - 2026-11-25 04:39:54';

describe('toPipelineInput', () => {
  it('turns every line into an input: events with their checkpoint, other lines with the checkpoint alone', async () => {
    const calls: string[] = [];
    const metrics = {
      linesRead: () => void calls.push('line'),
      event: (type: string, jail?: string) => void calls.push(`event ${type} ${jail}`),
      lineRejected: (reason: string) => void calls.push(`rejected ${reason}`),
    };
    const warnings: object[] = [];
    const seen: number[] = [];
    const inputs = await lastValueFrom(
      from([line(BAN, 10), line(BAD, 20), line(NOISE, 30)]).pipe(
        toPipelineInput({ metrics, log: { warn: (o) => void warnings.push(o) }, onLine: (tl) => void seen.push(tl.checkpoint.offset) }),
        toArray(),
      ),
    );
    expect(inputs.map((i) => [i.event?.type, i.event?.ip, i.checkpoint?.offset])).toEqual([
      ['ban', '198.51.100.7', 10],
      [undefined, undefined, 20],
      [undefined, undefined, 30],
    ]);
    expect(seen).toEqual([10, 20, 30]);
    expect(calls[0]).toBe('line');
    expect(calls[1]).toMatch(/^event ban sshd$/);
    expect(calls.filter((c) => c === 'line')).toHaveLength(3);
    expect(calls.filter((c) => c.startsWith('rejected '))).toHaveLength(1);
    expect(warnings).toEqual([expect.objectContaining({ jail: 'sshd', id: '999.1.1.1' })]);
  });

  it("names the source: the glob's file in glob mode (feed too), else the syslog HOST of a combined file, else nobody", async () => {
    const metrics = { linesRead: () => undefined, event: () => undefined, lineRejected: () => undefined };
    const sources: string[] = [];
    const RFC = '2026-12-04T12:00:00.123456+01:00 web7 fail2ban.actions[1234]: NOTICE [sshd] Ban 192.0.2.7';
    const TRAD = 'Dec  4 12:00:01 web8 fail2ban.actions[1234]: NOTICE [sshd] Ban 192.0.2.8';
    const inputs = await lastValueFrom(
      from([{ ...line(RFC, 10), source: 'web1' }, line(RFC, 20), line(TRAD, 30), line(BAN, 40)]).pipe(
        toPipelineInput({
          metrics: { ...metrics, sourceEvent: (s) => void sources.push(s) },
          log: { warn: () => undefined },
          now: () => Date.UTC(2026, 11, 4, 13),
        }),
        toArray(),
      ),
    );
    expect(inputs.map((i) => [i.source, i.feed, i.event?.ip])).toEqual([
      ['web1', 'web1', '192.0.2.7'],
      ['web7', undefined, '192.0.2.7'],
      ['web8', undefined, '192.0.2.8'],
      [undefined, undefined, '198.51.100.7'],
    ]);
    expect(sources).toEqual(['web1', 'web7', 'web8']);
    // The traditional stamp got its year from the injected clock.
    expect(inputs[2]?.event?.isoTime).toBe('2026-12-04T12:00:01.000');
  });
});
