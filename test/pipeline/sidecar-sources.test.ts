// The sidecar fed by many sources (issue 13 item 3): inputs carry their source and feed; forget()
// goes through the intake; the state saves every feed's checkpoint. Virtual time (harness.ts).
import { describe, expect, it } from 'vitest';
import { cp, harness, type Harness } from './harness.js';
import { ban, jailStart, jailStop, restore, serverStart, serverStop, serverStopping, unban } from './events.js';
import type { F2bEvent } from '../../src/parser/types.js';
import { RemovalBreaker } from '../../src/pipeline/breaker.js';
import { DEFAULT_SUSPEND } from '../../src/pipeline/model.js';

const W = DEFAULT_SUSPEND.stopUnbanWindowMs;
const addr = (i: number): string => `198.51.${100 + Math.floor(i / 250)}.${(i % 250) + 1}`;

async function started(o: Parameters<typeof harness>[0] = {}): Promise<Harness> {
  const h = harness(o);
  await h.clock.advance(0);
  return h;
}

const from = (h: Harness, source: string, event: F2bEvent): void => h.sidecar.push({ event, source });

describe('sidecar sources: one firewall entry per address, whoever banned it', () => {
  it('web1 and web2 ban: one add; web1 lifts it: no write; web2 lifts it too: removed after the stop-unban window', async () => {
    const h = await started();
    const mark = h.journal.length;
    from(h, 'web1', ban('sshd', '192.0.2.1'));
    from(h, 'web2', ban('sshd', '192.0.2.1'));
    await h.clock.advance(2000);
    expect(h.writes(mark)).toEqual(['fw1 add f2b-v4 192.0.2.1']);
    from(h, 'web1', unban('sshd', '192.0.2.1'));
    await h.clock.advance(W + 5000);
    expect(h.writes(mark)).toHaveLength(1);
    expect(h.fw.memberAddresses('f2b-v4')).toEqual(['192.0.2.1']);
    const t = h.clock.now;
    from(h, 'web2', unban('sshd', '192.0.2.1'));
    await h.clock.advance(W + 2000);
    expect(h.timedWrites(mark).slice(1)).toEqual([`${t + W + 1000} fw1 remove f2b-v4 192.0.2.1`]);
  });

  it('a restart of fail2ban on web1 costs no write while web2 goes on banning and unbanning', async () => {
    const h = await started();
    from(h, 'web1', serverStart(100));
    from(h, 'web2', serverStart(100));
    for (const a of ['192.0.2.1', '192.0.2.2']) from(h, 'web1', ban('sshd', a, 100));
    from(h, 'web2', ban('sshd', '192.0.2.9', 100));
    await h.clock.advance(2000);
    const mark = h.journal.length;
    from(h, 'web1', serverStopping(100));
    for (const a of ['192.0.2.1', '192.0.2.2']) from(h, 'web1', unban('sshd', a, 100));
    from(h, 'web2', ban('sshd', '192.0.2.10', 100));
    from(h, 'web2', unban('sshd', '192.0.2.9', 100));
    await h.clock.advance(W * 2);
    from(h, 'web1', jailStop('sshd', 100));
    from(h, 'web1', serverStop(100));
    await h.clock.advance(3000);
    from(h, 'web1', serverStart(200));
    from(h, 'web1', jailStart('sshd', 200));
    for (const a of ['192.0.2.1', '192.0.2.2']) from(h, 'web1', restore('sshd', a, 200));
    await h.clock.advance(DEFAULT_SUSPEND.restoreGraceMs + 5000);
    // Only web2's own changes were written.
    expect(h.writes(mark)).toEqual(['fw1 add f2b-v4 192.0.2.10', 'fw1 remove f2b-v4 192.0.2.9']);
    expect(h.fw.memberAddresses('f2b-v4')).toEqual(['192.0.2.1', '192.0.2.10', '192.0.2.2']);
  });
});

describe('sidecar sources: forget', () => {
  it('lifts what only the source held, even far above the removal breaker thresholds (an operator request, like an Unban)', async () => {
    const breaker = new RemovalBreaker();
    const h = await started({ breaker, batch: { maxSize: 500 } });
    for (let i = 0; i < 100; i++) from(h, 'web1', ban('sshd', addr(i)));
    for (let i = 0; i < 10; i++) from(h, 'web2', ban('sshd', addr(i)));
    await h.clock.advance(2000);
    expect(h.fw.memberAddresses('f2b-v4')).toHaveLength(100);
    const lifted = Array.from({ length: 90 }, (_, i) => addr(i + 10));
    // The same removals without an Unban behind them (orphans) would be held: 90 of 100.
    expect(new RemovalBreaker().decide('fw1/f2b-v4', { owned: 100, unbans: [], orphans: lifted }, 0).held).toHaveLength(90);

    const mark = h.journal.length;
    const r = h.sidecar.forget('web1');
    expect(r.slots).toBe(100);
    expect(
      r.changes
        .filter((c) => c.op === 'remove')
        .map((c) => c.address)
        .sort(),
    ).toEqual([...lifted].sort());
    await h.clock.advance(2000);
    expect(h.fw.memberAddresses('f2b-v4')).toEqual(Array.from({ length: 10 }, (_, i) => addr(i)).sort());
    expect(breaker.holds()).toEqual([]);
    expect(h.sidecar.status().groups.find((g) => g.group === 'f2b-v4')?.removalsHeld).toBeUndefined();
    // Saved before the firewall heard of it, like any change; the state no longer knows web1.
    const j = h.journal.slice(mark);
    expect(j.findIndex((l) => l.startsWith('save'))).toBeLessThan(j.findIndex((l) => l.includes(' remove ')));
    expect(Object.keys(h.sink.last?.model.sources ?? {})).toEqual(['web2']);
    expect(h.log.at('warn').map((e) => e.msg)).toContain('source forgotten: the bans only it held are lifted');
  });

  it('after stop, forget does nothing', async () => {
    const h = await started();
    from(h, 'web1', ban('sshd', '192.0.2.1'));
    await h.sidecar.stop();
    expect(h.sidecar.forget('web1')).toEqual({ source: 'web1', slots: 0, changes: [] });
    expect(h.sidecar.model.size).toBe(1);
  });
});

describe('sidecar sources: state and status', () => {
  it("saves every feed's checkpoint besides the single log's; a restart resumes them and the sources", async () => {
    const h = await started();
    h.sidecar.push({ event: ban('sshd', '192.0.2.1'), source: 'web1', feed: 'web1', checkpoint: cp(10) });
    h.sidecar.push({ event: ban('sshd', '192.0.2.2'), source: 'web2', feed: 'web2', checkpoint: cp(20) });
    h.sidecar.push({ source: 'web1', feed: 'web1', checkpoint: cp(30) });
    h.sidecar.push({ checkpoint: cp(5) });
    await h.clock.advance(2000);
    const saved = h.sink.last!;
    expect(saved.checkpoint).toEqual(cp(5));
    expect(saved.checkpoints).toEqual({ web1: cp(30), web2: cp(20) });
    expect(h.sidecar.status().persist.checkpoints).toEqual({ web1: cp(30), web2: cp(20) });
    await h.sidecar.stop();

    const again = await started({ fws: h.fws, initial: saved, startAt: h.clock.now });
    expect(again.sidecar.status().persist.checkpoints).toEqual({ web1: cp(30), web2: cp(20) });
    expect(again.sidecar.model.entry('192.0.2.2', 'sshd', 'web2')?.state).toBe('active');
    again.sidecar.push({ source: 'web2', feed: 'web2', checkpoint: cp(40) });
    await again.clock.advance(2000);
    expect(again.sink.last!.checkpoints).toEqual({ web1: cp(30), web2: cp(40) });
    expect(again.sink.last!.checkpoint).toEqual(cp(5));
  });

  it('a one-host setup saves no checkpoints map and a version 1 model, as before', async () => {
    const h = await started();
    h.sidecar.push({ event: ban('sshd', '192.0.2.1'), checkpoint: cp(10) });
    await h.clock.advance(2000);
    expect(h.sink.last!.checkpoints).toBeUndefined();
    expect(h.sink.last!.model.version).toBe(1);
    expect(h.sidecar.status().sources).toEqual([
      { source: '', slots: 1, waiting: 0, pid: 100, stopping: false, events: 1, lastEventAt: 0 },
    ]);
  });

  it('status lists every source with the bans it holds', async () => {
    const h = await started();
    from(h, 'web1', serverStart(100));
    from(h, 'web1', ban('sshd', '192.0.2.1', 100));
    from(h, 'web2', ban('sshd', '192.0.2.1', 7));
    from(h, 'web2', ban('sshd', '192.0.2.2', 7));
    from(h, 'web2', serverStopping(7));
    await h.clock.advance(1000);
    expect(h.sidecar.status().sources?.map((s) => [s.source, s.slots, s.pid, s.stopping])).toEqual([
      ['web1', 1, 100, false],
      ['web2', 2, 7, true],
    ]);
  });
});
