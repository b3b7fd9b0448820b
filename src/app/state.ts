/**
 * The state directory, opened for one runtime: its lock taken, the store loaded, and the sink the
 * pipeline saves through. The store itself is built by the caller (runtime.ts), in one line.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SidecarMetrics } from '../metrics/metrics.js';
import type { PersistedState, StateSink } from '../pipeline/sidecar.js';
import { acquireLock, STATE_FILE, type LoadResult, type StateCodec, type StateStore } from '../state/index.js';
import type { Logger } from '../util/log.js';
import type { Shutdown } from './shutdown.js';

export interface OpenedState {
  loaded: LoadResult<PersistedState>;
  /** What the pipeline starts from; undefined when nothing was stored (a first start, or all copies lost). */
  initial: PersistedState | undefined;
}

/**
 * Takes the directory's lock (released by `shutdown`), then loads the store kept in it. A
 * recovered state is logged as an error.
 */
export async function openState(
  dir: string,
  store: Pick<StateStore<PersistedState>, 'load'>,
  log: Pick<Logger, 'error'>,
  shutdown: Shutdown,
): Promise<OpenedState> {
  shutdown.add(await acquireLock(dir));
  const loaded = await store.load();
  if (loaded.recovered) log.error({ recovered: loaded.recovered }, 'state file recovered');
  const initial = loaded.source === 'empty' ? undefined : loaded.state;
  return { loaded, initial };
}

/** Saves through the store; a failed save is counted, and still thrown to the pipeline (which retries). */
export function stateSink(store: Pick<StateStore<PersistedState>, 'save'>, metrics: Pick<SidecarMetrics, 'stateWriteFailure'>): StateSink {
  return {
    save: async (s) => {
      try {
        await store.save(s);
      } catch (err) {
        metrics.stateWriteFailure();
        throw err;
      }
    },
  };
}

/**
 * The state as a dry run and `plan` see it: read without the lock and without a single write (no
 * directory created, no temp sweep, an unusable file not set aside), so they can run beside the
 * live sidecar. The current file, else the previous generation, else empty. A file caught
 * half-replaced is impossible (the store renames into place), so no lock is needed to read it.
 */
export async function peekState<T>(dir: string, codec: StateCodec<T>, now: Date, log: Pick<Logger, 'warn'>): Promise<LoadResult<T>> {
  const file = join(dir, STATE_FILE);
  for (const [path, source] of [
    [file, 'current'],
    [`${file}.prev`, 'previous'],
  ] as const) {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    try {
      return { state: codec.decode(text), source };
    } catch (err) {
      log.warn({ path, reason: (err as Error).message }, 'state file unusable; not touched (read-only)');
    }
  }
  return { state: codec.empty(now), source: 'empty' };
}

/** openState's read-only twin (dry run): no lock, no write; a recovered copy is only warned about. */
export async function peekOpenState(
  dir: string,
  codec: StateCodec<PersistedState>,
  now: Date,
  log: Pick<Logger, 'warn'>,
): Promise<OpenedState> {
  const loaded = await peekState(dir, codec, now, log);
  return { loaded, initial: loaded.source === 'empty' ? undefined : loaded.state };
}

/** Saves nothing: the sink of a dry run, which must leave the state directory as it found it. */
export const discardingSink: StateSink = { save: async () => undefined };
