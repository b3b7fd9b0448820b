import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Shutdown } from '../../src/app/shutdown.js';
import { openState, stateSink } from '../../src/app/state.js';
import { stateCodec } from '../../src/pipeline/persisted.js';
import { acquireLock, StateLockError, StateStore } from '../../src/state/index.js';
import { tempDir } from './helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function dir(): Promise<string> {
  const t = await tempDir('f2b-app-state-');
  cleanups.push(t.remove);
  return t.dir;
}

const quiet = { error: () => undefined };

describe('openState', () => {
  it('holds the lock until shutdown, then lets the next runtime take it', async () => {
    const d = await dir();
    const shutdown = new Shutdown({ warn: () => undefined });
    await openState(d, new StateStore(d, stateCodec), quiet, shutdown);
    await expect(acquireLock(d)).rejects.toBeInstanceOf(StateLockError);
    await shutdown.run();
    const release = await acquireLock(d);
    await release();
  });

  it('a first start has no initial state; a saved one is handed to the pipeline', async () => {
    const d = await dir();
    const store = new StateStore(d, stateCodec);
    const first = new Shutdown({ warn: () => undefined });
    const empty = await openState(d, store, quiet, first);
    expect(empty.loaded.source).toBe('empty');
    expect(empty.initial).toBeUndefined();
    await store.save({ ...empty.loaded.state, savedAt: '2026-01-01T00:00:00.000Z' });
    await first.run();

    const again = await openState(d, new StateStore(d, stateCodec), quiet, new Shutdown({ warn: () => undefined }));
    expect(again.loaded.source).toBe('current');
    expect(again.initial).toMatchObject({ savedAt: '2026-01-01T00:00:00.000Z' });
  });

  it('logs a recovered (corrupt) state as an error', async () => {
    const d = await dir();
    await writeFile(join(d, 'state.json'), '{"version": 1, "mod');
    const errors: object[] = [];
    const shutdown = new Shutdown({ warn: () => undefined });
    cleanups.push(() => shutdown.run());
    const s = await openState(d, new StateStore(d, stateCodec), { error: (o: object) => void errors.push(o) }, shutdown);
    expect(s.loaded.recovered).toBeDefined();
    expect(errors).toEqual([{ recovered: s.loaded.recovered }]);
  });
});

describe('stateSink', () => {
  it('passes saves through; a failed save is counted and still thrown to the pipeline', async () => {
    let failures = 0;
    const saved: unknown[] = [];
    let fail = false;
    const sink = stateSink(
      {
        save: async (s) => {
          if (fail) throw new Error('disk full');
          saved.push(s);
        },
      },
      { stateWriteFailure: () => void failures++ },
    );
    const state = { version: 1, model: {} as never, savedAt: 'T' };
    await sink.save(state);
    expect(saved).toEqual([state]);
    expect(failures).toBe(0);
    fail = true;
    await expect(sink.save(state)).rejects.toThrow('disk full');
    expect(failures).toBe(1);
  });
});
