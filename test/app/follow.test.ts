// followLog against a real log file and a stand-in pipeline: where reading starts, when removals
// are released, what the runtime learns about the log, and that shutdown stops the reading.
import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Subject, VirtualTimeScheduler, type Observable, type Subscription } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { followLog, READ_BACK_TIMEOUT_MS } from '../../src/app/follow.js';
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
  /** Inputs of lines (readThrough inputs are in `all` only). */
  inputs: PipelineInput[];
  /** Every input, in order. */
  all: PipelineInput[];
  /** The sidecar's read requests (Sidecar.readRequests). */
  readRequests: Subject<void>;
  /** Inputs pushed when releaseRemovals() was called, per call. */
  releases: number[];
  sub?: Subscription;
  sidecar: Sidecar;
}

function standIn(): Stand {
  const s: Stand = { inputs: [], all: [], readRequests: new Subject<void>(), releases: [], sidecar: undefined as never };
  s.sidecar = {
    connect: (input$: Observable<PipelineInput>) =>
      (s.sub = input$.subscribe((i) => {
        s.all.push(i);
        if (i.readThrough === undefined) s.inputs.push(i);
      })),
    readRequests: s.readRequests,
    releaseRemovals: () => void s.releases.push(s.inputs.length),
  } as unknown as Sidecar;
  return s;
}

async function start(o: { startAt: 'end' | 'beginning'; log: string; loaded?: Partial<LoadResult<PersistedState>>; missing?: boolean }) {
  const t = await tempDir('f2b-follow-');
  cleanups.push(t.remove);
  const path = join(t.dir, 'fail2ban.log');
  if (!o.missing) await writeFile(path, o.log);
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
  return { stand, activity, sink, shutdown, path, scheduler };
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

  it('startAt end with no state at all: the log is read back from the beginning before removals are released', async () => {
    const r = await start({ startAt: 'end', log: lines(3) });
    await waitFor('the release', () => r.stand.releases.length > 0);
    expect(r.stand.releases).toEqual([3]);
    expect(r.sink.text).toMatch(/why="?log read back/);
  });

  it('startAt end with a state and no checkpoint: old lines skipped, released once the log was read to its end', async () => {
    const r = await start({ startAt: 'end', log: lines(3), loaded: { source: 'current' } });
    await waitFor('the release', () => r.stand.releases.length > 0);
    expect(r.stand.releases).toEqual([0]);
    expect(r.stand.inputs).toEqual([]);
  });

  it('a missing log holds removals past the safety timeout; released once it appeared and was read', async () => {
    const r = await start({ startAt: 'end', log: lines(1), loaded: { source: 'current' }, missing: true });
    await waitFor('the missing-file warning', () => r.sink.text.includes('FILE_MISSING'));
    r.scheduler.maxFrames = r.scheduler.frame + READ_BACK_TIMEOUT_MS + 1000;
    r.scheduler.flush(); // the read-back timeout passes (the polls find no file)
    expect(r.stand.releases).toEqual([]);
    await writeFile(r.path, lines(2));
    await waitFor('the release', () => {
      r.scheduler.frame += 1000;
      r.scheduler.maxFrames = r.scheduler.frame;
      r.scheduler.flush();
      return r.stand.releases.length > 0;
    });
    expect(r.stand.releases).toEqual([2]);
    expect(r.sink.text).not.toContain('read-back timeout');
  });

  it('a state lost to corruption is read back from the beginning even with startAt end', async () => {
    const r = await start({ startAt: 'end', log: lines(2), loaded: { recovered: 'state.json: not JSON' } });
    await waitFor('the release', () => r.stand.releases.length > 0);
    expect(r.stand.releases).toEqual([2]);
  });

  it('a read the pipeline asks for reads the log at once and answers with how far it read, after the lines', async () => {
    const r = await start({ startAt: 'beginning', log: lines(1) });
    await waitFor('the first read-through', () => r.stand.all.some((i) => i.readThrough !== undefined));
    expect(r.stand.all.map((i) => i.readThrough ?? i.event?.ip)).toEqual(['198.51.100.1', 1_700_000_000_000]);
    await appendFile(r.path, f2bLine('Unban', 'sshd', '198.51.100.1'));
    r.scheduler.frame += 2000; // the poll (5 s) has not fired
    r.stand.readRequests.next();
    await waitFor('the answer', () => r.stand.all.some((i) => i.readThrough === 1_700_000_002_000));
    const at = r.stand.all.findIndex((i) => i.readThrough === 1_700_000_002_000);
    expect(r.stand.all.slice(0, at).map((i) => i.event?.type)).toContain('unban');
  });

  it('shutdown stops reading the log', async () => {
    const r = await start({ startAt: 'beginning', log: lines(1) });
    await waitFor('the line', () => r.stand.inputs.length === 1);
    await r.shutdown.run();
    expect(r.stand.sub?.closed).toBe(true);
  });
});
