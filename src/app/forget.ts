/**
 * Retiring a fleet source (issue 13 item 4): `f2b-sophosxg forget SOURCE` lifts the bans only that
 * source holds. Like `release`, the running sidecar has no control socket: the command writes a
 * request file into `stateDir/forget/`, the sidecar polls that directory every few seconds, applies
 * the request through the pipeline (batched, saved and reconciled like an Unban) and answers with a
 * `.done` file the command reads back. With no sidecar running (the state's lock is free) the
 * command changes the state file itself, under the lock; the next start lifts the bans.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config/index.js';
import { deserializeModel, type GroupChange, type ModelOptions } from '../pipeline/model.js';
import { stateCodec, type PersistedState } from '../pipeline/persisted.js';
import { acquireLock, StateLockError, StateStore, writeFileAtomic } from '../state/index.js';
import { modelOptionsOf } from './pipeline.js';
import { peekState } from './state.js';
import type { Shutdown } from './shutdown.js';

export const FORGET_DIR = 'forget';
const REQUEST = '.forget';
const DONE = '.done';
export const FORGET_POLL_MS = 2000;

/** What forgetting a source did (or would do). */
export interface ForgetOutcome {
  source: string;
  /** Addresses lifted from some group: no other source holds them there (the rest stay). */
  lifted: string[];
  /** (address, jail) holds the source had; 0: it held nothing (or is unknown). */
  slots: number;
}

interface ForgetLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

// Source names are path segments or host names: the file is named by their hash all the same,
// so no name can reach outside the directory.
const fileOf = (stateDir: string, source: string, suffix: string) =>
  join(stateDir, FORGET_DIR, `${createHash('sha256').update(source).digest('hex').slice(0, 16)}${suffix}`);

/** Writes the request for the running sidecar; returns the file its answer will be in. */
export async function requestForget(stateDir: string, source: string): Promise<string> {
  await mkdir(join(stateDir, FORGET_DIR), { recursive: true, mode: 0o700 });
  const done = fileOf(stateDir, source, DONE);
  await unlink(done).catch(() => undefined);
  await writeFileAtomic(fileOf(stateDir, source, REQUEST), `${source}\n`);
  return done;
}

/** The sidecar's answer, once written (and then removed), else undefined. */
export async function takeAnswer(done: string): Promise<ForgetOutcome | undefined> {
  const text = await readFile(done, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  await unlink(done).catch(() => undefined);
  return JSON.parse(text) as ForgetOutcome;
}

export interface ForgetWatchOptions {
  stateDir: string;
  /** Applies the request to the live pipeline. */
  forget: (source: string) => ForgetOutcome;
  log: ForgetLogger;
}

/** One look at the request directory. Exported for tests; watchForgets() polls it. */
export async function pollForgets(o: ForgetWatchOptions): Promise<number> {
  const dir = join(o.stateDir, FORGET_DIR);
  const names = await readdir(dir).catch(() => [] as string[]);
  let n = 0;
  for (const name of names.filter((x) => x.endsWith(REQUEST))) {
    const file = join(dir, name);
    const source = (await readFile(file, 'utf8').catch(() => '')).trim();
    if (source !== '') {
      const out = o.forget(source);
      o.log.info({ source, holds: out.slots, lifted: out.lifted.length }, 'source forgotten by the operator: the bans only it held are lifted');
      await writeFileAtomic(join(dir, name.slice(0, -REQUEST.length) + DONE), `${JSON.stringify(out)}\n`);
      n++;
    }
    await unlink(file).catch(() => undefined);
  }
  return n;
}

export function watchForgets(o: ForgetWatchOptions, shutdown: Shutdown): void {
  let busy = false;
  const tick = (): void => {
    if (busy) return;
    busy = true;
    void pollForgets(o)
      .catch((err: unknown) => o.log.warn({ err }, 'cannot read forget requests'))
      .finally(() => (busy = false));
  };
  tick();
  const timer = setInterval(tick, FORGET_POLL_MS);
  timer.unref();
  shutdown.add(() => clearInterval(timer));
}

// ---- the command's side: offline, live, dry run ---------------------------------------------------

/** Where the answer came from: the state file changed here, the running sidecar, or a preview. */
export type ForgetMode = 'offline' | 'live' | 'dry-run' | 'live-pending';

export interface ForgetRun {
  mode: ForgetMode;
  /** Undefined when the running sidecar did not answer in time (live-pending). */
  outcome?: ForgetOutcome;
  /** Sources the state knows (for "no such source"). */
  known: string[];
}

/** The model's forget as an outcome: lifted = addresses some group no longer holds at all. */
export function outcomeOf(source: string, changes: readonly GroupChange[], slots: number): ForgetOutcome {
  const lifted = [...new Set(changes.filter((c) => c.op === 'remove').map((c) => c.address))].sort();
  return { source, lifted, slots };
}

/** Forgets `source` in a stored state (pure apart from the model's clock): the new state and the outcome. */
export function forgetInState(
  state: PersistedState,
  source: string,
  opts: ModelOptions,
  now: number,
): { state: PersistedState; outcome: ForgetOutcome; known: string[] } {
  const model = deserializeModel(state.model, opts, now);
  const known = model
    .sources()
    .map((s) => s.source)
    .filter((s) => s !== '');
  const fx = model.forget(source, now);
  const forgot = fx.notes.find((n) => n.kind === 'forgot');
  const slots = forgot?.kind === 'forgot' ? forgot.slots : 0;
  return {
    state: { ...state, model: model.serialize(), savedAt: new Date(now).toISOString() },
    outcome: outcomeOf(source, fx.changes, slots),
    known,
  };
}

export interface ForgetSourceOptions {
  config: Config;
  source: string;
  dryRun: boolean;
  now: () => number;
  /** How long to wait for the running sidecar's answer. */
  waitMs: number;
  sleep: (ms: number) => Promise<void>;
  log: ForgetLogger;
}

/**
 * The command's work. A dry run reads the state without the lock (beside a running sidecar it is
 * the state it saved last, seconds old). Otherwise: with the lock free, no sidecar runs and the
 * state file is changed here; with it taken, the running sidecar is asked and its answer awaited.
 */
export async function forgetSource(o: ForgetSourceOptions): Promise<ForgetRun> {
  const dir = o.config.stateDir;
  const opts = modelOptionsOf(o.config);
  const preview = async () => forgetInState((await peekState(dir, stateCodec, new Date(o.now()), o.log)).state, o.source, opts, o.now());
  if (o.dryRun) {
    const r = await preview();
    return { mode: 'dry-run', outcome: r.outcome, known: r.known };
  }
  let unlock: () => Promise<void>;
  try {
    unlock = await acquireLock(dir);
  } catch (err) {
    if (!(err instanceof StateLockError)) throw err;
    const { known } = await preview();
    const done = await requestForget(dir, o.source);
    for (let waited = 0; waited < o.waitMs; waited += 200) {
      const outcome = await takeAnswer(done);
      if (outcome) return { mode: 'live', outcome, known };
      await o.sleep(200);
    }
    return { mode: 'live-pending', known };
  }
  try {
    const store = new StateStore(dir, stateCodec, { onWarning: (m) => o.log.warn({ stateDir: dir }, m) });
    const loaded = await store.load();
    const r = forgetInState(loaded.state, o.source, opts, o.now());
    if (r.outcome.slots > 0) await store.save(r.state);
    return { mode: 'offline', outcome: r.outcome, known: r.known };
  } finally {
    await unlock();
  }
}
