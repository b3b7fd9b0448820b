// kill -9 at an arbitrary point, with the real state store on a real directory.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateStore } from '../../src/state/index.js';
import { stateCodec } from '../../src/pipeline/persisted.js';
import type { Checkpoint } from '../../src/core/checkpoint.js';
import { harness, type Harness } from './harness.js';
import { ban, unban } from './events.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'f2b-pipeline-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const cp = (offset: number): Checkpoint => ({ path: '/var/log/fail2ban.log', dev: 64769, ino: 1234, offset, head: 'a'.repeat(64) });

/** Virtual time in 100 ms steps, letting the real file I/O finish at each step. */
async function advance(h: Harness, ms: number): Promise<void> {
  const end = h.clock.now + ms;
  do {
    await h.clock.advanceTo(Math.min(end, h.clock.now + 100));
    await h.sink.io();
    await h.clock.advance(0);
    await h.sink.io();
  } while (h.clock.now < end);
}

describe('durability with StateStore', () => {
  it('a restart after kill -9 resumes from the last flushed line and leaves the firewall alone', async () => {
    const h1 = harness({ store: new StateStore(dir, stateCodec) });
    await advance(h1, 0);
    h1.sidecar.push({ event: ban('sshd', '192.0.2.1'), checkpoint: cp(100) });
    h1.sidecar.push({ event: ban('sshd', '2001:db8::1'), checkpoint: cp(200) });
    await advance(h1, 1000);
    h1.sidecar.push({ event: unban('sshd', '2001:db8::1'), checkpoint: cp(300) });
    await advance(h1, 1000);
    // Applied to the model but not flushed yet when the process is killed.
    h1.sidecar.push({ event: ban('sshd', '192.0.2.2'), checkpoint: cp(400) });
    await advance(h1, 10);

    const { state, source } = await new StateStore(dir, stateCodec).load();
    expect(source).toBe('current');
    expect(state.checkpoint?.offset).toBe(300);
    expect(state.model.entries['2001:db8::1']).toEqual({ sshd: { state: 'unbanning', at: 1000 } });
    expect(state.model.entries['192.0.2.2']).toBeUndefined();

    const h2 = harness({ fws: h1.fws, initial: state, store: new StateStore(dir, stateCodec), startAt: 50_000 });
    await advance(h2, 0);
    expect(h2.writes()).toEqual([]);
    // The tailer resumes after offset 300: the line at 400 comes again.
    h2.sidecar.push({ event: ban('sshd', '192.0.2.2'), checkpoint: cp(400) });
    await advance(h2, 10_000);
    // The held unban restarted its window at load and, with no Jail stopped, became a real removal.
    expect(h2.writes()).toEqual(['fw1 add f2b-v4 192.0.2.2', 'fw1 remove f2b-v6 2001:db8::1']);
    expect((await new StateStore(dir, stateCodec).load()).state.checkpoint?.offset).toBe(400);
    await h2.sidecar.stop();
  });
});
