import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeFs, type FileHandleLike, type FsLike } from '../../src/state/index.js';

export type FaultPoint = 'open' | 'write' | 'sync' | 'close' | 'rename' | 'open-dir' | 'sync-dir';
export const FAULT_POINTS: FaultPoint[] = ['open', 'write', 'sync', 'close', 'rename', 'open-dir', 'sync-dir'];

export function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: simulated`), { code });
}

/**
 * The real file system with one injected failure. `write` faults after writing half the data
 * (a short write); `crash` also makes every later call fail, as if the process had died there,
 * so nothing gets cleaned up.
 */
export function faultyFs(point: FaultPoint, code = 'ENOSPC', crash = false): FsLike & { crashed: boolean } {
  const state = { crashed: false };
  const fail = (): never => {
    if (crash) state.crashed = true;
    throw errno(code);
  };
  const guard = () => {
    if (state.crashed) throw errno('EKILLED');
  };
  const fs: FsLike & { crashed: boolean } = {
    get crashed() {
      return state.crashed;
    },
    async open(path, flags, mode) {
      guard();
      const isDir = flags === 'r';
      if ((point === 'open' && !isDir) || (point === 'open-dir' && isDir)) fail();
      const h = await nodeFs.open(path, flags, mode);
      const wrapped: FileHandleLike = {
        async writeFile(data) {
          guard();
          if (point === 'write') {
            await h.writeFile(typeof data === 'string' ? data.slice(0, data.length >> 1) : data.subarray(0, data.length >> 1));
            fail();
          }
          await h.writeFile(data);
        },
        async sync() {
          guard();
          if ((point === 'sync' && !isDir) || (point === 'sync-dir' && isDir)) fail();
          await h.sync();
        },
        async close() {
          await h.close();
          guard();
          if (point === 'close' && !isDir) fail();
        },
      };
      return wrapped;
    },
    async rename(from, to) {
      guard();
      if (point === 'rename') fail();
      await nodeFs.rename(from, to);
    },
    async unlink(path) {
      guard();
      await nodeFs.unlink(path);
    },
  };
  return fs;
}

export async function tempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export async function hiddenTemps(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.includes('.tmp-'));
}
