/**
 * Shape check of the state file. The format itself belongs to the pipeline (PersistedState);
 * a file that does not match is treated as corrupt rather than handed to the model, which would
 * otherwise throw at every start (a crash loop).
 */
import { z } from 'zod';
import { MODEL_VERSION } from '../pipeline/model.js';
import { STATE_VERSION, type PersistedState } from '../pipeline/sidecar.js';

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

const ModelSchema = z.object({
  version: z.literal(MODEL_VERSION),
  pid: z.int().positive().optional(),
  stopping: z.boolean(),
  entries: z.record(z.string(), z.record(z.string(), JailEntrySchema)),
});

export const StateSchema = z.object({
  version: z.literal(STATE_VERSION),
  model: ModelSchema,
  checkpoint: CheckpointSchema.optional(),
  savedAt: z.string(),
});

/** The state file's content: the pipeline's snapshot (model + checkpoint of the last handled line). */
export type SidecarState = PersistedState;

// Compile-time guard: the schema must accept nothing the pipeline cannot load.
const _accepts: (s: z.output<typeof StateSchema>) => SidecarState = (s) => s;
void _accepts;

export function emptyState(now: Date): SidecarState {
  return { version: STATE_VERSION, model: { version: MODEL_VERSION, stopping: false, entries: {} }, savedAt: now.toISOString() };
}

/** JSON text → state, or the reason it is unusable (short, for the log). */
export function decodeState(text: string): { state: SidecarState } | { reason: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { reason: text.trim() === '' ? 'empty file' : `not valid JSON (${(err as Error).message})` };
  }
  const r = StateSchema.safeParse(json);
  if (r.success) return { state: r.data };
  const first = r.error.issues[0];
  const where = first?.path.length ? first.path.map(String).join('.') : 'document';
  return { reason: `unexpected shape at ${where}: ${first?.message ?? 'invalid'}${r.error.issues.length > 1 ? ` (+${r.error.issues.length - 1} more)` : ''}` };
}
