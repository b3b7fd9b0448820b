import { join } from 'node:path';
import { Subject, VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { Shutdown } from '../../src/app/shutdown.js';
import { describeWriter, keepStatusFile, processAlive, STATUS_FILE } from '../../src/app/status-file.js';
import type { StatusSnapshot } from '../../src/metrics/status.js';

function rig(fail = false) {
  const scheduler = new VirtualTimeScheduler();
  const changes$ = new Subject<void>();
  const writes: { file: string; at: number; body: { updatedAt: string; n: number; pid: number } }[] = [];
  const warnings: string[] = [];
  let n = 0;
  const shutdown = new Shutdown({ warn: () => undefined });
  keepStatusFile(
    {
      stateDir: '/state',
      changes$,
      snapshot: () => ({ n: ++n }) as unknown as StatusSnapshot,
      scheduler,
      pid: 4242,
      log: { warn: (_o, msg) => void warnings.push(msg) },
      write: async (file, text) => {
        if (fail) throw new Error('disk full');
        writes.push({ file, at: scheduler.now(), body: JSON.parse(text) as { updatedAt: string; n: number; pid: number } });
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
    expect(r.writes).toEqual([
      { file: join('/state', STATUS_FILE), at: 1000, body: { n: 1, updatedAt: new Date(1000).toISOString(), pid: 4242 } },
    ]);
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

describe('status.json: its writer', () => {
  it('carries the pid of the process that wrote it', async () => {
    const r = rig();
    r.changes$.next();
    r.advance(1000);
    await settle();
    expect(r.writes.map((w) => w.body.pid)).toEqual([4242]);
  });

  const at = Date.parse('2026-12-04T12:00:00Z');
  const s = (ageMs: number, pid?: number) => ({ updatedAt: new Date(at - ageMs).toISOString(), pid });

  it('a live writer: running, with the age', () => {
    expect(describeWriter(s(3000, 7), at, (pid) => pid === 7)).toEqual({
      ageMs: 3000,
      running: true,
      line: 'sidecar running (pid 7), status written 3 s ago',
    });
  });

  it('a dead writer: a clear NOT RUNNING line, with the age in larger units', () => {
    const w = describeWriter(s(3 * 3600_000, 7), at, () => false);
    expect(w.running).toBe(false);
    expect(w.line).toMatch(/^NOT RUNNING: the sidecar that wrote this status \(pid 7\) has stopped; status written 3 h ago/);
    expect(describeWriter(s(300_000, 7), at, () => false).line).toContain('written 5 min ago');
    expect(describeWriter(s(5 * 86_400_000, 7), at, () => false).line).toContain('written 5 d ago');
  });

  it('no pid (an older version) or no time: said so, liveness unknown', () => {
    expect(describeWriter(s(1000), at, () => true)).toEqual({
      ageMs: 1000,
      running: undefined,
      line: 'status written 1 s ago (no process id in it)',
    });
    expect(describeWriter({ pid: 7 }, at, () => true).line).toBe('sidecar running (pid 7), status of unknown age');
  });

  it('processAlive: this process is alive, a pid that cannot exist is not', () => {
    expect(processAlive(process.pid)).toBe(true);
    expect(processAlive(2 ** 22 + 12345)).toBe(false);
  });
});
