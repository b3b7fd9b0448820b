// The sidecar reading a host's central rsyslog file after its transport replayed lines (issue 13):
// the replay is dropped by the intake, so it is neither a restart of that host nor a write.
// Real lines through the real parser; virtual time (harness.ts).
import { describe, expect, it } from 'vitest';
import { cp, harness, type Harness } from './harness.js';
import { parseLine } from '../../src/parser/index.js';
import type { F2bEvent } from '../../src/parser/types.js';
import { DEFAULT_SUSPEND, type Note } from '../../src/pipeline/model.js';

const W = DEFAULT_SUSPEND.stopUnbanWindowMs;
const GRACE = DEFAULT_SUSPEND.restoreGraceMs;

/** web1's fail2ban as the central rsyslog writes it (RSYSLOG_FileFormat, µs, the sender's zone). */
const SESSION = [
  '2026-12-04T17:30:00.100001+00:00 web1 fail2ban.server[123]: INFO    Starting Fail2ban v1.0.2',
  "2026-12-04T17:30:00.200002+00:00 web1 fail2ban.jail[123]: INFO    Jail 'sshd' started",
  '2026-12-04T17:30:05.956017+00:00 web1 fail2ban.actions[123]: NOTICE  [sshd] Ban 192.0.2.7',
  '2026-12-04T17:30:05.956412+00:00 web1 fail2ban.actions[123]: NOTICE  [sshd] Ban 192.0.2.8',
  '2026-12-04T17:30:09.001000+00:00 web1 fail2ban.actions[123]: NOTICE  [sshd] Ban 192.0.2.9',
  '2026-12-04T17:30:12.500000+00:00 web1 fail2ban.actions[123]: NOTICE  [sshd] Unban 192.0.2.9',
];

function parsed(line: string): F2bEvent {
  const r = parseLine(line);
  if (r.kind !== 'event') throw new Error(`not an event: ${line}`);
  return r.event;
}

async function fleet(): Promise<{ h: Harness; notes: Note[]; feed: (lines: string[]) => void }> {
  const notes: Note[] = [];
  const h = harness({ onNote: (n) => notes.push(n) });
  await h.clock.advance(0);
  let offset = 0;
  // As the glob tailer delivers web1's file: each line with its checkpoint in that feed.
  const feed = (lines: string[]): void => {
    for (const l of lines) {
      offset += l.length + 1;
      h.sidecar.push({ event: parsed(l), source: 'web1', feed: 'web1', checkpoint: cp(offset) });
    }
  };
  return { h, notes, feed };
}

describe('sidecar: a replayed segment of a host (RELP after a central restart)', () => {
  it('is no restart of that host: nothing suspended, nothing written, its checkpoint moves on', async () => {
    const { h, notes, feed } = await fleet();
    expect(parsed(SESSION[0]!).isoTime).toBe('2026-12-04T17:30:00.100');
    feed(SESSION);
    await h.clock.advance(W + 5000);
    expect(h.fw.memberAddresses('f2b-v4')).toEqual(['192.0.2.7', '192.0.2.8']);

    const mark = h.journal.length;
    const warned = h.log.at('warn').length;
    // The central restarted: RELP re-sends the session, then the host goes on.
    feed(SESSION);
    const next = '2026-12-04T17:31:00.000001+00:00 web1 fail2ban.actions[123]: NOTICE  [sshd] Ban 192.0.2.10';
    feed([next]);
    await h.clock.advance(GRACE + W + 10_000);

    expect(h.writes(mark)).toEqual(['fw1 add f2b-v4 192.0.2.10']);
    expect(h.fw.memberAddresses('f2b-v4')).toEqual(['192.0.2.10', '192.0.2.7', '192.0.2.8']);
    expect(h.log.at('warn').slice(warned)).toEqual([]);
    expect(notes.filter((n) => ['crash-restart', 'jail-restart', 'suspended', 'not-restored'].includes(n.kind))).toEqual([]);
    const repeats = notes.filter((n) => n.kind === 'repeat');
    expect(repeats.map((n) => (n.kind === 'repeat' ? [n.source, n.run, n.line] : []))).toEqual(SESSION.map((l, i) => ['web1', i + 1, l]));
    // One info line for the run of six; the rest at debug.
    expect(h.log.at('info').filter((e) => e.obj.kind === 'repeat')).toHaveLength(1);
    expect(h.log.at('debug').filter((e) => e.obj.kind === 'repeat')).toHaveLength(SESSION.length - 1);
    // The replayed lines' checkpoints were saved like any other.
    expect(h.sink.last?.checkpoints?.web1?.offset).toBe([...SESSION, ...SESSION, next].reduce((n, l) => n + l.length + 1, 0));
  });

  it('TCP resending its last line, a jail start: no suspension, the bans stay past the restore grace', async () => {
    const { h, notes, feed } = await fleet();
    const start = "2026-12-04T17:40:00.000100+00:00 web1 fail2ban.jail[123]: INFO    Jail 'recidive' started";
    feed([
      ...SESSION.slice(0, 3),
      '2026-12-04T17:35:00.000000+00:00 web1 fail2ban.actions[123]: NOTICE  [recidive] Ban 203.0.113.5',
      start,
    ]);
    await h.clock.advance(W + 5000);
    const mark = h.journal.length;
    feed([start]);
    await h.clock.advance(GRACE + W + 10_000);
    expect(h.writes(mark)).toEqual([]);
    expect(h.fw.memberAddresses('f2b-v4')).toEqual(['192.0.2.7', '203.0.113.5']);
    expect(notes.filter((n) => n.kind === 'repeat')).toHaveLength(1);
  });

  it("the single log '' is never filtered: the same line twice is applied twice (a restart, as today)", async () => {
    const notes: Note[] = [];
    const h = harness({ onNote: (n) => notes.push(n) });
    await h.clock.advance(0);
    for (const l of [...SESSION.slice(0, 3), SESSION[1]!]) h.sidecar.push({ event: parsed(l) });
    await h.clock.advance(1000);
    expect(notes.filter((n) => n.kind === 'repeat')).toEqual([]);
    expect(notes.some((n) => n.kind === 'jail-restart' || n.kind === 'suspended')).toBe(true);
  });
});

describe('sidecar: forget drops the source window', () => {
  it('a forgotten source starts afresh: its same line again is news', async () => {
    const { h, notes, feed } = await fleet();
    feed(SESSION.slice(0, 3));
    await h.clock.advance(2000);
    h.sidecar.forget('web1');
    feed(SESSION.slice(2, 3));
    await h.clock.advance(2000);
    expect(notes.filter((n) => n.kind === 'repeat')).toEqual([]);
    expect(h.fw.memberAddresses('f2b-v4')).toEqual(['192.0.2.7']);
  });
});
