/**
 * Retiring a fleet source (issue 13 item 4): `f2b-sophosxg forget SOURCE` lifts the bans only that
 * source holds. Like `release`, the running sidecar has no control socket: the command writes a
 * request file into `stateDir/forget/`, the sidecar polls that directory every few seconds, applies
 * the request through the pipeline (batched, saved and reconciled like an Unban) and answers with a
 * `.done` file the command reads back. With no sidecar running (the state's lock is free) the
 * request stays for the next start, which applies it the same way; the command shows a preview.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config/index.js';
import { deserializeModel, type GroupChange, type ModelOptions } from '../pipeline/model.js';
import { stateCodec, type PersistedState } from '../pipeline/persisted.js';
import { lockHolder, writeFileAtomic } from '../state/index.js';
import type { Logger } from '../util/log.js';
import { modelOptionsOf } from './pipeline.js';
import { peekState } from './state.js';
import { pollEvery } from './poll.js';
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
  // JSON: the unnamed source ('', a single log's bans) is a valid request too.
  await writeFileAtomic(fileOf(stateDir, source, REQUEST), `${JSON.stringify({ source })}\n`);
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
  /** Resolves once what was applied is saved (and reconciled): the request may then go. */
  settled: () => Promise<void>;
  log: ForgetLogger;
}

/**
 * The running sidecar's side. A request is answered at once but removed only once its effect is
 * saved: a sidecar killed in between applies it again at its next start (forgetting twice is
 * harmless), so a request is never lost between the answer and the save.
 */
export class ForgetRequests {
  /** Requests applied whose removal waits for the save. */
  private readonly applied = new Set<string>();

  constructor(private readonly o: ForgetWatchOptions) {}

  /** One look at the request directory; the number of requests applied. */
  async poll(): Promise<number> {
    const dir = join(this.o.stateDir, FORGET_DIR);
    const names = await readdir(dir).catch(() => [] as string[]);
    let n = 0;
    for (const name of names.filter((x) => x.endsWith(REQUEST) && !this.applied.has(x))) {
      const file = join(dir, name);
      const source = requestedSource(await readFile(file, 'utf8').catch(() => ''));
      if (source === undefined) {
        await unlink(file).catch(() => undefined);
        continue;
      }
      const out = this.o.forget(source);
      this.o.log.info(
        { source, holds: out.slots, lifted: out.lifted.length },
        'source forgotten by the operator: the bans only it held are lifted',
      );
      await writeFileAtomic(join(dir, name.slice(0, -REQUEST.length) + DONE), `${JSON.stringify(out)}\n`);
      this.applied.add(name);
      void this.o.settled().then(async () => {
        await unlink(file).catch(() => undefined);
        this.applied.delete(name);
      });
      n++;
    }
    return n;
  }
}

function requestedSource(text: string): string | undefined {
  try {
    const v = (JSON.parse(text) as { source?: unknown }).source;
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

export function watchForgets(o: ForgetWatchOptions, shutdown: Shutdown): void {
  const requests = new ForgetRequests(o);
  pollEvery(
    () => requests.poll(),
    FORGET_POLL_MS,
    (err) => o.log.warn({ err }, 'cannot read forget requests'),
    shutdown,
  );
}

// ---- the command's side: live, next start, dry run ---------------------------------------------------

/** Where the answer came from: the running sidecar, a request left for the next start, or a preview. */
export type ForgetMode = 'live' | 'live-pending' | 'next-start' | 'dry-run';

export interface ForgetRun {
  mode: ForgetMode;
  /** The sidecar's answer (live) or the preview (dry-run, next-start). */
  outcome?: ForgetOutcome;
  /** Named sources the saved state knows; read only where shown (a preview, or a source that holds nothing). */
  known: string[];
}

/** The model's forget as an outcome: lifted = addresses some group no longer holds at all. */
export function outcomeOf(source: string, changes: readonly GroupChange[], slots: number): ForgetOutcome {
  const lifted = [...new Set(changes.filter((c) => c.op === 'remove').map((c) => c.address))].sort();
  return { source, lifted, slots };
}

/** What forgetting `source` would do to a stored state, on a throwaway model. */
export function previewForget(
  state: PersistedState,
  source: string,
  opts: ModelOptions,
  now: number,
): { outcome: ForgetOutcome; known: string[] } {
  const model = deserializeModel(state.model, opts, now);
  const known = model
    .sources()
    .map((s) => s.source)
    .filter((s) => s !== '');
  const fx = model.forget(source, now);
  return { outcome: outcomeOf(source, fx.changes, fx.slots), known };
}

export interface ForgetSourceOptions {
  config: Config;
  source: string;
  dryRun: boolean;
  now: () => number;
  /** How long to wait for the running sidecar's answer. */
  waitMs: number;
  sleep: (ms: number) => Promise<void>;
  log: Pick<Logger, 'warn'>;
}

/**
 * The command's work. The state file is never edited here: removals with no Unban behind them
 * would meet the orphan breaker at the next start. The request goes through the pipeline of the
 * running sidecar (answered within seconds) or of the next start. A dry run and the preview read
 * the saved state without the lock (beside a running sidecar: what it saved last, seconds old).
 */
export async function forgetSource(o: ForgetSourceOptions): Promise<ForgetRun> {
  const dir = o.config.stateDir;
  // The whole saved state on a throwaway model: only where its answer is shown or needed.
  const preview = async () =>
    previewForget((await peekState(dir, stateCodec, new Date(o.now()), o.log)).state, o.source, modelOptionsOf(o.config), o.now());
  if (o.dryRun) return { mode: 'dry-run', ...(await preview()) };
  const holder = await lockHolder(dir);
  if (!holder?.alive) {
    const p = await preview();
    // Nothing to do for a source the state does not hold: no request left behind for a typo.
    if (p.outcome.slots > 0) await requestForget(dir, o.source);
    return { mode: 'next-start', ...p };
  }
  // The running sidecar does the work; the state is read only to name the known sources of a miss.
  const done = await requestForget(dir, o.source);
  for (let waited = 0; waited < o.waitMs; waited += 200) {
    const outcome = await takeAnswer(done);
    if (outcome) return { mode: 'live', outcome, known: outcome.slots > 0 ? [] : (await preview()).known };
    await o.sleep(200);
  }
  return { mode: 'live-pending', known: [] };
}
