/** Desired vs known firewall membership → the writes to make. Pure. */

export interface Plan {
  add: string[][];
  remove: string[][];
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  if (!(size >= 1)) throw new RangeError(`batch size must be at least 1, got ${size}`);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const NONE: ReadonlySet<string> = new Set();

/**
 * Sorted, so the same difference always yields the same requests (stable logs and tests).
 * `keep`: addresses to leave as they are (held unbans): never added, never removed.
 */
export function diff(
  desired: ReadonlySet<string>,
  known: ReadonlySet<string>,
  keep: ReadonlySet<string> = NONE,
): { add: string[]; remove: string[] } {
  const add: string[] = [];
  const remove: string[] = [];
  for (const a of desired) if (!known.has(a)) add.push(a);
  for (const a of known) if (!desired.has(a) && !keep.has(a)) remove.push(a);
  return { add: add.sort(), remove: remove.sort() };
}

/** What diff() would return, counted: status reports run often and must not copy 100,000 addresses. */
export function pending(
  desired: ReadonlySet<string>,
  known: ReadonlySet<string> | undefined,
  keep: ReadonlySet<string> = NONE,
): { add: number; remove: number } {
  if (!known) return { add: desired.size, remove: 0 };
  let add = 0;
  let remove = 0;
  for (const a of desired) if (!known.has(a)) add++;
  for (const a of known) if (!desired.has(a) && !keep.has(a)) remove++;
  return { add, remove };
}

export function plan(desired: ReadonlySet<string>, known: ReadonlySet<string>, maxBatch: number, keep?: ReadonlySet<string>): Plan {
  const d = diff(desired, known, keep);
  return { add: chunk(d.add, maxBatch), remove: chunk(d.remove, maxBatch) };
}
