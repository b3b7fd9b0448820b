/**
 * The state directory, opened for one runtime: its lock taken, the store loaded, and the sink the
 * pipeline saves through. The store itself is built by the caller (runtime.ts), in one line.
 */
import type { SidecarMetrics } from '../metrics/metrics.js';
import type { PersistedState, StateSink } from '../pipeline/sidecar.js';
import { acquireLock, type LoadResult, type StateStore } from '../state/index.js';
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
export async function openState(dir: string, store: Pick<StateStore<PersistedState>, 'load'>, log: Pick<Logger, 'error'>, shutdown: Shutdown): Promise<OpenedState> {
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
