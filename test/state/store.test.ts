import { mkdir, readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateReadError, StateStore, StateWriteError, type SidecarState } from '../../src/state/index.js';
import { FAULT_POINTS, faultyFs, hiddenTemps, tempDir } from './helpers.js';

const NOW = new Date('2026-11-25T08:00:00.000Z');
const STAMP = '2026-11-25T08-00-00.000Z';

function state(gen: number, extra: Partial<SidecarState> = {}): SidecarState {
  return {
    version: 1,
    model: {
      version: 1,
      pid: 4242,
      stopping: false,
      entries: {
        [`203.0.113.${gen}`]: { sshd: { state: 'active', at: 1_700_000_000_000 + gen } },
        '2001:db8::/64': { nginx: { state: 'suspended', at: 1_700_000_000_000, restoreBy: 1_700_000_060_000 } },
      },
    },
    checkpoint: { path: '/var/log/fail2ban.log', dev: 2049, ino: 131_000 + gen, offset: 1000 * gen, head: 'ab'.repeat(32) },
    savedAt: `2026-11-25T07:00:0${gen}.000Z`,
    ...extra,
  };
}

describe('StateStore', () => {
  let root: string;
  let dir: string;
  let cleanup: () => Promise<void>;
  let store: StateStore;
  beforeEach(async () => {
    ({ dir: root, cleanup } = await tempDir('f2b-store-'));
    dir = join(root, 'state');
    store = new StateStore(dir, { now: () => NOW });
  });
  afterEach(async () => {
    await cleanup();
  });

  it('starts empty, without complaint, when there is no state yet; creates the directory 0700', async () => {
    const r = await store.load();
    expect(r.source).toBe('empty');
    expect(r.recovered).toBeUndefined();
    expect(r.state).toEqual({ version: 1, model: { version: 1, stopping: false, entries: {} }, savedAt: NOW.toISOString() });
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
  });

  it('round-trips, keeping the previous generation', async () => {
    await store.save(state(1));
    await store.save(state(2));
    expect(await new StateStore(dir).load()).toEqual({ state: state(2), source: 'current' });
    expect(JSON.parse(await readFile(store.prevFile, 'utf8'))).toEqual(state(1));
    expect((await stat(store.file)).mode & 0o777).toBe(0o600);
    expect(await hiddenTemps(dir)).toEqual([]);
  });

  const badContents: [string, (file: string) => Promise<void>, RegExp][] = [
    ['garbage', (f) => writeFile(f, '{"version":1,"mo\u0000del'), /not valid JSON/],
    ['a truncated file', async (f) => truncate(f, Math.floor((await stat(f)).size / 2)), /not valid JSON/],
    ['an empty file', (f) => writeFile(f, ''), /empty file/],
    ['a wrong state version', (f) => writeFile(f, JSON.stringify({ ...state(2), version: 2 })), /unexpected shape at version/],
    ['a wrong model version', (f) => writeFile(f, JSON.stringify({ ...state(2), model: { ...state(2).model, version: 9 } })), /unexpected shape at model\.version/],
    ['a wrong shape', (f) => writeFile(f, JSON.stringify({ ...state(2), model: { entries: [] } })), /unexpected shape at model/],
  ];

  it.each(badContents)('%s: keeps it aside and falls back to the previous generation', async (_name, damage, reason) => {
    await store.save(state(1));
    await store.save(state(2));
    await damage(store.file);
    const damaged = await readFile(store.file);
    const r = await new StateStore(dir, { now: () => NOW }).load();
    expect(r.source).toBe('previous');
    expect(r.state).toEqual(state(1));
    const aside = `${store.file}.corrupt-${STAMP}`;
    expect(r.recovered).toMatch(reason);
    expect(r.recovered).toContain(`kept as ${aside}`);
    expect(r.recovered).toContain(`loaded the previous generation ${store.prevFile}`);
    // The bad copy is kept byte for byte for inspection, not dropped.
    expect(await readFile(aside)).toEqual(damaged);
  });

  it('after a recovery the next save keeps the good generation as prev, not the corrupt one', async () => {
    await store.save(state(1));
    await store.save(state(2));
    await writeFile(store.file, 'junk');
    const s2 = new StateStore(dir, { now: () => NOW });
    expect((await s2.load()).state).toEqual(state(1));
    await s2.save(state(3));
    expect(JSON.parse(await readFile(store.prevFile, 'utf8'))).toEqual(state(1));
    expect(await new StateStore(dir).load()).toEqual({ state: state(3), source: 'current' });
  });

  it('a missing current file with a previous generation uses it and says so', async () => {
    await store.save(state(1));
    await store.save(state(2));
    await writeFile(store.file, '');
    await new StateStore(dir, { now: () => NOW }).load(); // moves the empty file aside
    const r = await new StateStore(dir).load();
    expect(r.source).toBe('previous');
    expect(r.recovered).toContain(`${store.file} is missing`);
  });

  it('no valid copy at all: starts empty, keeps both bad files and says so', async () => {
    await store.save(state(1));
    await store.save(state(2));
    await writeFile(store.file, '{');
    await writeFile(store.prevFile, '[]');
    const r = await new StateStore(dir, { now: () => NOW }).load();
    expect(r.source).toBe('empty');
    expect(r.state.model.entries).toEqual({});
    expect(r.recovered).toContain('the previous generation is unusable too');
    expect(r.recovered).toContain('starting with an empty state');
    expect((await readdir(dir)).sort()).toEqual([`state.json.corrupt-${STAMP}`, `state.json.prev.corrupt-${STAMP}`]);
  });

  it('a corrupt file without a previous generation: starts empty and says so', async () => {
    await mkdir(dir, { recursive: true });
    await writeFile(store.file, 'null');
    const r = await store.load();
    expect(r.source).toBe('empty');
    expect(r.recovered).toMatch(/unexpected shape at document.*there is no previous generation; starting with an empty state/);
  });

  it('an unreadable state file is an error, not an empty start (the checkpoint would be lost)', async () => {
    await mkdir(store.file, { recursive: true });
    const err = await store.load().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateReadError);
    expect((err as StateReadError).message).toBe(`cannot read ${store.file}: EISDIR (illegal operation on a directory)`);
  });

  describe.each(FAULT_POINTS)('a crash while saving, at %s', (point) => {
    it('loads either the old or the new state and sweeps the temp files', async () => {
      await store.save(state(1));
      await store.save(state(2));
      const fs = faultyFs(point, 'EIO', true);
      const crashing = new StateStore(dir, { fs });
      await expect(crashing.save(state(3))).rejects.toBeInstanceOf(StateWriteError);
      const r = await new StateStore(dir).load();
      expect(r.recovered).toBeUndefined();
      expect([state(2), state(3)]).toContainEqual(r.state);
      expect(await hiddenTemps(dir)).toEqual([]);
    });
  });

  it('a failed save (ENOSPC) reports the path and errno and keeps the last state', async () => {
    await store.save(state(1));
    const failing = new StateStore(dir, { fs: faultyFs('write', 'ENOSPC') });
    const err = (await failing.save(state(2)).catch((e: unknown) => e)) as StateWriteError;
    expect(err).toBeInstanceOf(StateWriteError);
    expect(err.errno).toBe('ENOSPC');
    expect(err.path).toBe(store.file);
    expect(err.retryable).toBe(true);
    expect((await new StateStore(dir).load()).state).toEqual(state(1));
  });
});
