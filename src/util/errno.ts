/** Node's system errors in words, for messages that must say what to fix. */
import { getSystemErrorMap } from 'node:util';

/** "ENOSPC (no space left on device)"; the plain message for errors without an errno. */
export function describeErrno(err: unknown): string {
  const e = err as NodeJS.ErrnoException | undefined;
  if (e?.code) {
    const desc = typeof e.errno === 'number' ? getSystemErrorMap().get(e.errno)?.[1] : undefined;
    return desc ? `${e.code} (${desc})` : e.code;
  }
  return e instanceof Error ? e.message : String(err);
}
