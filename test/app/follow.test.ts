// followLog against a real log file and a stand-in pipeline: where reading starts, when removals
// are released, what the runtime learns about the log, and that shutdown stops the reading.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VirtualTimeScheduler, type Observable, type Subscription } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { followLog } from '../../src/app/follow.js';
import { Shutdown } from '../../src/app/shutdown.js';
import type { LogActivity } from '../../src/app/snapshot.js';
import { parseConfig } from '../../src/config/index.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import type { PipelineInput, Sidecar } from '../../src/pipeline/sidecar.js';
import { emptyState, type PersistedState } from '../../src/pipeline/persisted.js';
import type { LoadResult } from '../../src/state/index.js';
import { createLogger } from '../../src/util/log.js';
import { f2bLine, LineSink, tempDir, waitFor } from './helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Stand {
  inputs: PipelineInput[];
  /** Inputs pushed when releaseRemovals() was called, per call. */
  releases: number[];
  sub?: Subscription;
  sidecar: Sidecar;
}

function standIn(): Stand {
  const s: Stand = { inputs: [], releases: [], sidecar: undefined as never };
  s.sidecar = {
    connect: (input$: Observable<PipelineInput>) => (s.sub = input$.subscribe((i) => s.inputs.push(i))),
    releaseRemovals: () => void s.releases.push(s.inputs.length),
  } as unknown as Sidecar;
  return s;
}

async function start(o: { startAt: 'end' | 'beginning'; log: string; loaded?: Partial<LoadResult<PersistedState>> }) {
  const t = await tempDir('f2b-follow-');
  cleanups.push(t.remove);
  const path = join(t.dir, 'fail2ban.log');
  await writeFile(path, o.log);
  const config = parseConfig(
    [
      `log: { path: ${JSON.stringify(path)}, startAt: ${o.startAt} }`,
      `stateDir: ${JSON.stringify(join(t.dir, 'state'))}`,
      'firewalls: { main: { url: "https://127.0.0.1:4444", username: a, passwordEnv: P } }',
      'groups: [ { name: g4, firewall: main, jails: ["*"] } ]',
    ].join('\n'),
    '(test)',
  );
  const scheduler = new VirtualTimeScheduler();
  scheduler.frame = 1_700_000_000_000;
  const stand = standIn();
  const activity: LogActivity = { readable: true };
  const sink = new LineSink();
  const shutdown = new Shutdown({ warn: () => undefined });
  cleanups.push(() => shutdown.run());
  const loaded: LoadResult<PersistedState> = { state: emptyState(new Date(0)), source: 'empty', ...o.loaded };
  const log = createLogger({ level: 'info', format: 'text', destination: sink, journal: false });
  await followLog({ config, loaded, sidecar: stand.sidecar, metrics: createMetrics(), activity, scheduler, log }, shutdown);
  return { stand, activity, sink, shutdown, path };
}

const lines = (n: number) => Array.from({ length: n }, (_, i) => f2bLine('Ban', 'sshd', `198.51.100.${i + 1}`)).join('');

describe('followLog', () => {
  it('first start from the beginning: removals are released once the last line at start is pushed, not before', async () => {
    const r = await start({ startAt: 'beginning', log: lines(3) });
    await waitFor('the release', () => r.stand.releases.length > 0);
    expect(r.stand.releases).toEqual([3]);
    expect(r.stand.inputs.map((i) => i.event?.ip)).toEqual(['198.51.100.1', '198.51.100.2', '198.51.100.3']);
    expect(r.sink.text).toMatch(/desired state read back.* why="?log read back/);
    // The last line's time comes from the injected clock.
    expect(r.activity.lastLineAt).toBe(new Date(1_700_000_000_000).toISOString());
  });

  it('startAt end with nothing stored: nothing to read back, released at once, old lines skipped', async () => {
    const r = await start({ startAt: 'end', log: lines(3) });
    expect(r.stand.releases).toEqual([0]);
    expect(r.sink.text).toMatch(/why="?nothing to read back/);
    expect(r.stand.inputs).toEqual([]);
  });

  it('a state lost to corruption is read back from the beginning even with startAt end', async () => {
    const r = await start({ startAt: 'end', log: lines(2), loaded: { recovered: 'state.json: not JSON' } });
    await waitFor('the release', () => r.stand.releases.length > 0);
    expect(r.stand.releases).toEqual([2]);
  });

  it('shutdown stops reading the log', async () => {
    const r = await start({ startAt: 'beginning', log: lines(1) });
    await waitFor('the line', () => r.stand.inputs.length === 1);
    await r.shutdown.run();
    expect(r.stand.sub?.closed).toBe(true);
  });
});
