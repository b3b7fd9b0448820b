import { join } from 'node:path';
import { Subject, VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { Shutdown } from '../../src/app/shutdown.js';
import { keepStatusFile, STATUS_FILE } from '../../src/app/status-file.js';
import type { StatusSnapshot } from '../../src/metrics/status.js';

function rig(fail = false) {
  const scheduler = new VirtualTimeScheduler();
  const changes$ = new Subject<void>();
  const writes: { file: string; at: number; body: { updatedAt: string; n: number } }[] = [];
  const warnings: string[] = [];
  let n = 0;
  const shutdown = new Shutdown({ warn: () => undefined });
  keepStatusFile(
    {
      stateDir: '/state',
      changes$,
      snapshot: () => ({ n: ++n }) as unknown as StatusSnapshot,
      scheduler,
      log: { warn: (_o, msg) => void warnings.push(msg) },
      write: async (file, text) => {
        if (fail) throw new Error('disk full');
        writes.push({ file, at: scheduler.now(), body: JSON.parse(text) as { updatedAt: string; n: number } });
      },
    },
    shutdown,
  );
  const advance = (ms: number): void => {
    const to = scheduler.frame + ms;
    scheduler.maxFrames = to;
    scheduler.flush();
    scheduler.frame = to;
  };
  return { changes$, writes, warnings, shutdown, advance };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('status.json', () => {
  it('is written at most once a second while the status changes, stamped with the injected time', async () => {
    const r = rig();
    r.changes$.next();
    r.changes$.next();
    r.advance(999);
    await settle();
    expect(r.writes).toEqual([]);
    r.changes$.next();
    r.advance(1);
    await settle();
    expect(r.writes).toEqual([{ file: join('/state', STATUS_FILE), at: 1000, body: { n: 1, updatedAt: new Date(1000).toISOString() } }]);
    r.advance(5000);
    await settle();
    expect(r.writes).toHaveLength(1);
  });

  it('is written once more at shutdown, and no longer follows changes after it', async () => {
    const r = rig();
    await r.shutdown.run();
    r.changes$.next();
    r.advance(5000);
    await settle();
    expect(r.writes.map((w) => w.body.n)).toEqual([1]);
  });

  it('a failed write is a warning, not an error', async () => {
    const r = rig(true);
    await r.shutdown.run();
    expect(r.warnings).toEqual(['cannot write status file']);
  });
});
