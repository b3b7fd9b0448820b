import { mkdir, readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateReadError, StateStore, StateWriteError, type StateCodec } from '../../src/state/index.js';
import { FAULT_POINTS, faultyFs, hiddenTemps, tempDir } from './helpers.js';

const NOW = new Date('2026-11-25T08:00:00.000Z');
const STAMP = '2026-11-25T08-00-00.000Z';

/**
 * A deliberately non-JSON format: the store must move whatever text the codec makes and use the
 * codec's verdict on what it reads back, knowing nothing of the format itself.
 */
interface Doc {
  gen: number;
  note: string;
}
const docCodec: StateCodec<Doc> = {
  encode: (d) => `doc ${d.gen} ${d.note}\n`,
  decode: (text) => {
    if (text.trim() === '') throw new Error('empty file');
    const m = /^doc (\d+) (\S+)\n$/.exec(text);
    if (!m) throw new Error(`not a doc: ${JSON.stringify(text.slice(0, 12))}`);
    return { gen: Number(m[1]), note: m[2]! };
  },
  empty: (now) => ({ gen: 0, note: `empty@${now.toISOString()}` }),
  describe: (d) => `generation ${d.gen}`,
};

const doc = (gen: number): Doc => ({ gen, note: `n${gen}` });

describe('StateStore', () => {
  let root: string;
  let dir: string;
  let cleanup: () => Promise<void>;
  let store: StateStore<Doc>;
  const open = (o: ConstructorParameters<typeof StateStore>[2] = {}): StateStore<Doc> => new StateStore(dir, docCodec, o);
  beforeEach(async () => {
    ({ dir: root, cleanup } = await tempDir('f2b-store-'));
    dir = join(root, 'state');
    store = open({ now: () => NOW });
  });
  afterEach(async () => {
    await cleanup();
  });

  it("starts with the codec's empty value, without complaint, when there is no state yet; creates the directory 0700", async () => {
    const r = await store.load();
    expect(r).toEqual({ state: { gen: 0, note: `empty@${NOW.toISOString()}` }, source: 'empty' });
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
  });

  it('writes exactly the text the codec makes and round-trips through it, keeping the previous generation', async () => {
    await store.save(doc(1));
    await store.save(doc(2));
    expect(await readFile(store.file, 'utf8')).toBe('doc 2 n2\n');
    expect(await readFile(store.prevFile, 'utf8')).toBe('doc 1 n1\n');
    expect(await open().load()).toEqual({ state: doc(2), source: 'current' });
    expect((await stat(store.file)).mode & 0o777).toBe(0o600);
    expect(await hiddenTemps(dir)).toEqual([]);
  });

  const badContents: [string, (file: string) => Promise<void>, RegExp][] = [
    ['garbage', (f) => writeFile(f, 'doc 2 n\u00002'), /not a doc/],
    ['a truncated file', async (f) => truncate(f, Math.floor((await stat(f)).size / 2)), /not a doc: "doc "/],
    ['an empty file', (f) => writeFile(f, ''), /empty file/],
  ];

  it.each(badContents)(
    '%s (the codec refuses it): keeps it aside and falls back to the previous generation',
    async (_name, damage, reason) => {
      await store.save(doc(1));
      await store.save(doc(2));
      await damage(store.file);
      const damaged = await readFile(store.file);
      const r = await open({ now: () => NOW }).load();
      expect(r.source).toBe('previous');
      expect(r.state).toEqual(doc(1));
      const aside = `${store.file}.corrupt-${STAMP}`;
      expect(r.recovered).toMatch(reason);
      expect(r.recovered).toContain(`kept as ${aside}`);
      // The codec's description of the copy that was used.
      expect(r.recovered).toContain(`loaded the previous generation ${store.prevFile} (generation 1)`);
      // The bad copy is kept byte for byte for inspection, not dropped.
      expect(await readFile(aside)).toEqual(damaged);
    },
  );

  it('a codec without describe: the recovery note names the file only', async () => {
    const { describe: _d, ...plain } = docCodec;
    const s = new StateStore(dir, plain);
    await s.save(doc(1));
    await s.save(doc(2));
    await writeFile(s.file, 'junk');
    const r = await new StateStore(dir, plain, { now: () => NOW }).load();
    expect(r.recovered).toMatch(new RegExp(`loaded the previous generation ${s.prevFile.replace(/[.]/g, '\\.')}$`));
  });

  it('an exception that is not an Error still counts as a refusal, with its text as the reason', async () => {
    const throwsString: StateCodec<Doc> = {
      ...docCodec,
      decode: (t) => {
        if (t.startsWith('doc')) return docCodec.decode(t);
        throw 'refused';
      },
    };
    await store.save(doc(1));
    await store.save(doc(2));
    await writeFile(store.file, 'junk');
    const r = await new StateStore(dir, throwsString, { now: () => NOW }).load();
    expect(r.source).toBe('previous');
    expect(r.recovered).toContain(`${store.file} is unusable (refused)`);
  });

  it('after a recovery the next save keeps the good generation as prev, not the corrupt one', async () => {
    await store.save(doc(1));
    await store.save(doc(2));
    await writeFile(store.file, 'junk');
    const s2 = open({ now: () => NOW });
    expect((await s2.load()).state).toEqual(doc(1));
    await s2.save(doc(3));
    expect(await readFile(store.prevFile, 'utf8')).toBe('doc 1 n1\n');
    expect(await open().load()).toEqual({ state: doc(3), source: 'current' });
  });

  it('a missing current file with a previous generation uses it and says so', async () => {
    await store.save(doc(1));
    await store.save(doc(2));
    await writeFile(store.file, '');
    await open({ now: () => NOW }).load(); // moves the empty file aside
    const r = await open().load();
    expect(r.source).toBe('previous');
    expect(r.state).toEqual(doc(1));
    expect(r.recovered).toContain(`${store.file} is missing`);
  });

  it("no valid copy at all: starts with the codec's empty value, keeps both bad files and says so", async () => {
    await store.save(doc(1));
    await store.save(doc(2));
    await writeFile(store.file, '{');
    await writeFile(store.prevFile, '[]');
    const r = await open({ now: () => NOW }).load();
    expect(r.source).toBe('empty');
    expect(r.state).toEqual(docCodec.empty(NOW));
    expect(r.recovered).toContain('the previous generation is unusable too (not a doc: "[]")');
    expect(r.recovered).toContain('starting with an empty state');
    expect((await readdir(dir)).sort()).toEqual([`state.json.corrupt-${STAMP}`, `state.json.prev.corrupt-${STAMP}`]);
  });

  it('a corrupt file without a previous generation: starts empty and says so', async () => {
    await mkdir(dir, { recursive: true });
    await writeFile(store.file, 'null');
    const r = await store.load();
    expect(r.source).toBe('empty');
    expect(r.recovered).toMatch(/not a doc: "null".*there is no previous generation; starting with an empty state/);
  });

  it('an unreadable state file is an error, not an empty start (the checkpoint would be lost)', async () => {
    await mkdir(store.file, { recursive: true });
    const err = await store.load().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateReadError);
    expect((err as StateReadError).message).toBe(`cannot read ${store.file}: EISDIR (illegal operation on a directory)`);
  });

  describe.each(FAULT_POINTS)('a crash while saving, at %s', (point) => {
    it('loads either the old or the new state and sweeps the temp files', async () => {
      await store.save(doc(1));
      await store.save(doc(2));
      const fs = faultyFs(point, 'EIO', true);
      const crashing = open({ fs });
      await expect(crashing.save(doc(3))).rejects.toBeInstanceOf(StateWriteError);
      const r = await open().load();
      expect(r.recovered).toBeUndefined();
      expect([doc(2), doc(3)]).toContainEqual(r.state);
      expect(await hiddenTemps(dir)).toEqual([]);
    });
  });

  it('a failed save (ENOSPC) reports the path and errno and keeps the last state', async () => {
    await store.save(doc(1));
    const failing = open({ fs: faultyFs('write', 'ENOSPC') });
    const err = (await failing.save(doc(2)).catch((e: unknown) => e)) as StateWriteError;
    expect(err).toBeInstanceOf(StateWriteError);
    expect(err.errno).toBe('ENOSPC');
    expect(err.path).toBe(store.file);
    expect(err.retryable).toBe(true);
    expect((await open().load()).state).toEqual(doc(1));
  });
});
