import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateWriteError, writeFileAtomic } from '../../src/state/index.js';
import { FAULT_POINTS, faultyFs, hiddenTemps, tempDir } from './helpers.js';

const OLD = JSON.stringify({ generation: 'old', pad: 'o'.repeat(5000) });
const NEW = JSON.stringify({ generation: 'new', pad: 'n'.repeat(9000) });

describe('writeFileAtomic', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let target: string;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir('f2b-atomic-'));
    target = join(dir, 'state.json');
  });
  afterEach(async () => {
    await cleanup();
  });

  it('creates and replaces a file with mode 0600 and leaves no temp file', async () => {
    await writeFileAtomic(target, OLD);
    expect(await readFile(target, 'utf8')).toBe(OLD);
    await writeFileAtomic(target, new TextEncoder().encode(NEW));
    expect(await readFile(target, 'utf8')).toBe(NEW);
    expect((await stat(target)).mode & 0o777).toBe(0o600);
    expect(await hiddenTemps(dir)).toEqual([]);
  });

  it('honours an explicit mode', async () => {
    await writeFileAtomic(target, OLD, { mode: 0o640 });
    expect((await stat(target)).mode & 0o777).toBe(0o640 & ~process.umask());
  });

  describe.each(FAULT_POINTS)('failure at %s', (point) => {
    it('leaves the old or the new content, never a partial one, and no temp file', async () => {
      await writeFile(target, OLD);
      const err = await writeFileAtomic(target, NEW, { fs: faultyFs(point) }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(StateWriteError);
      const e = err as StateWriteError;
      expect(e.code).toBe('STATE_WRITE_FAILED');
      expect(e.errno).toBe('ENOSPC');
      expect(e.retryable).toBe(true);
      expect(e.path).toBe(target);
      expect(e.message).toContain(target);
      expect(e.message).toContain('ENOSPC');
      expect((e.cause as NodeJS.ErrnoException).code).toBe('ENOSPC');
      const content = await readFile(target, 'utf8');
      // Only a failure after the rename can leave the new content; anything earlier keeps the old.
      expect(content).toBe(point === 'open-dir' || point === 'sync-dir' ? NEW : OLD);
      expect(await hiddenTemps(dir)).toEqual([]);
    });

    it('a crash there (no clean-up at all) still leaves a complete file', async () => {
      await writeFile(target, OLD);
      const fs = faultyFs(point, 'EIO', true);
      await expect(writeFileAtomic(target, NEW, { fs })).rejects.toBeInstanceOf(StateWriteError);
      expect(fs.crashed).toBe(true);
      expect([OLD, NEW]).toContain(await readFile(target, 'utf8'));
    });
  });

  it('names the failing step', async () => {
    const err = (await writeFileAtomic(target, NEW, { fs: faultyFs('sync') }).catch((e: unknown) => e)) as StateWriteError;
    expect(err.step).toBe('fsync');
    expect(err.message).toBe(`cannot write ${target} (fsync): ENOSPC`);
  });

  it('a read-only file system is not retryable; the real errno comes through', async () => {
    const err = (await writeFileAtomic(target, NEW, { fs: faultyFs('open', 'EROFS') }).catch((e: unknown) => e)) as StateWriteError;
    expect(err.errno).toBe('EROFS');
    expect(err.retryable).toBe(false);
    const real = (await writeFileAtomic(join(dir, 'no', 'such', 'dir', 'f'), NEW).catch((e: unknown) => e)) as StateWriteError;
    expect(real).toBeInstanceOf(StateWriteError);
    expect(real.errno).toBe('ENOENT');
    expect(real.message).toContain('ENOENT (no such file or directory)');
  });
});
