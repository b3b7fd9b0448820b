/**
 * The state file format: what the sidecar persists (the model snapshot and the checkpoint of the
 * last line whose effects it contains, one per followed file in glob mode), and its codec — JSON text to state with a shape check.
 * A file that does not match is treated as unusable rather than handed to the model, which would
 * otherwise throw at every start (a crash loop). The store (src/state) only moves the text; it is
 * given this codec by the wiring and knows nothing of the format.
 */
import { z } from 'zod';
import type { Checkpoint } from '../core/checkpoint.js';
import { SOURCE_NAME } from '../core/source-name.js';
import { MODEL_VERSION, type SerializedModel } from './model.js';

export const STATE_VERSION = 1;

/** What the state file holds. */
export interface PersistedState {
  version: number;
  model: SerializedModel;
  /** Last line of the single log whose effects are in `model`. */
  checkpoint?: Checkpoint;
  /**
   * Glob mode (issue 13): per followed file, keyed by its feed (PipelineInput.feed), the last line
   * whose effects are in `model`. Older releases ignore the key (and re-read those files).
   */
  checkpoints?: Record<string, Checkpoint>;
  /** ISO time of the snapshot. */
  savedAt: string;
}

/** Where the sidecar saves its snapshots (the state store, or a test double). */
export interface StateSink {
  save(state: PersistedState): Promise<void>;
}

/** The text is not a usable state file; the message is the reason, short, for the log. */
export class StateFormatError extends Error {
  readonly code = 'STATE_FORMAT';
  // The same text fails the same way: only a repaired or replaced file helps.
  readonly retryable = false;
  constructor(reason: string, cause?: unknown) {
    super(reason, { cause });
    this.name = 'StateFormatError';
  }
}

const nonNegative = z.number().nonnegative();

export const CheckpointSchema = z.object({
  path: z.string(),
  dev: nonNegative,
  ino: nonNegative,
  offset: z.int().nonnegative(),
  head: z.string().regex(/^[0-9a-f]{64}$/),
});

const JailEntrySchema = z.object({
  state: z.enum(['active', 'unbanning', 'suspended']),
  at: z.number(),
  restoreBy: z.number().optional(),
});

/** One source's part of the model (model.ts SerializedSource). */
const SourcePartSchema = z.object({
  pid: z.int().positive().optional(),
  stopping: z.boolean(),
  newestLine: z.number().optional(),
  started: z.array(z.string()).optional(),
  lastEventAt: z.number().optional(),
  entries: z.record(z.string(), z.record(z.string(), JailEntrySchema)),
});

/** Version 1 (one log) or 2 (named sources besides it); the top level is always source ''. */
const ModelSchema = SourcePartSchema.extend({
  version: z.literal([1, MODEL_VERSION]),
  sources: z.record(z.string().regex(SOURCE_NAME).min(1), SourcePartSchema).optional(),
});

export const StateSchema = z.object({
  version: z.literal(STATE_VERSION),
  model: ModelSchema,
  checkpoint: CheckpointSchema.optional(),
  checkpoints: z.record(z.string(), CheckpointSchema).optional(),
  savedAt: z.string(),
});

// Compile-time guard: the schema must accept nothing the pipeline cannot load.
const _accepts: (s: z.output<typeof StateSchema>) => PersistedState = (s) => s;
void _accepts;

/**
 * The state of a first start, or of a start with no usable file: no entries, no checkpoint. An
 * empty model is a version 1 model (what serialize() writes while no named source is known).
 */
export function emptyState(now: Date): PersistedState {
  return { version: STATE_VERSION, model: { version: 1, stopping: false, entries: {} }, savedAt: now.toISOString() };
}

/** One line of JSON: a file that ends in a newline is friendlier to `cat` and `tail`. */
export function encodeState(state: PersistedState): string {
  return `${JSON.stringify(state)}\n`;
}

/** JSON text → state; throws StateFormatError saying why the text is unusable. */
export function decodeState(text: string): PersistedState {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new StateFormatError(text.trim() === '' ? 'empty file' : `not valid JSON (${(err as Error).message})`, err);
  }
  const r = StateSchema.safeParse(json);
  if (r.success) return r.data;
  const first = r.error.issues[0];
  const where = first?.path.length ? first.path.map(String).join('.') : 'document';
  const more = r.error.issues.length > 1 ? ` (+${r.error.issues.length - 1} more)` : '';
  throw new StateFormatError(`unexpected shape at ${where}: ${first?.message ?? 'invalid'}${more}`, r.error);
}

/** The codec the state store is given (src/state/store.ts StateCodec, matched structurally). */
export const stateCodec = {
  encode: encodeState,
  decode: decodeState,
  empty: emptyState,
  describe: (state: PersistedState): string => `saved ${state.savedAt}`,
} as const;
