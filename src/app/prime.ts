/**
 * After a restart the repeat filter (pipeline/repeats.ts) knows no line yet, while rsyslog replays
 * exactly the lines just before the checkpoints when the central host rebooted with the sidecar
 * (RELP re-sends its session, TCP its last message). The tail of each followed file up to its
 * checkpoint is read back once at start and handed to the filter, never to the model.
 */
import { open } from 'node:fs/promises';
import type { Checkpoint } from '../core/checkpoint.js';
import { parseLine } from '../parser/index.js';
import type { F2bEvent } from '../parser/types.js';

/** Read back per file: ~2,000 rsyslog lines, more than TCP's one and most RELP sessions' worth. */
export const PRIME_BYTES = 256 * 1024;

export interface PrimeOptions {
  /** Glob mode: per source, the checkpoint of its file. */
  checkpoints?: Readonly<Record<string, Checkpoint>>;
  /** The single log: its syslog lines are remembered under their HOST (a combined file). */
  checkpoint?: Checkpoint | undefined;
  remember: (source: string, event: F2bEvent) => void;
  /** The reader's clock, for the year of traditional time stamps. */
  now: number;
  bytes?: number;
}

/** Events handed to the filter. A file no longer the checkpoint's (rotated, replaced) is skipped. */
export async function primeRepeats(o: PrimeOptions): Promise<number> {
  let n = 0;
  const feed = async (cp: Checkpoint, sourceOf: (ev: F2bEvent) => string | undefined) => {
    for (const line of await linesBefore(cp, o.bytes ?? PRIME_BYTES)) {
      const r = parseLine(line, { now: o.now });
      const source = r.kind === 'event' ? sourceOf(r.event) : undefined;
      if (r.kind !== 'event' || !source) continue;
      o.remember(source, r.event);
      n++;
    }
  };
  for (const [source, cp] of Object.entries(o.checkpoints ?? {})) await feed(cp, () => source);
  if (o.checkpoint) await feed(o.checkpoint, (ev) => ev.host);
  return n;
}

/** The complete lines in the `bytes` before the checkpoint's offset, if its file is still there. */
async function linesBefore(cp: Checkpoint, bytes: number): Promise<string[]> {
  const fh = await open(cp.path, 'r').catch(() => undefined);
  if (!fh) return [];
  try {
    const st = await fh.stat();
    if (st.dev !== cp.dev || st.ino !== cp.ino || st.size < cp.offset) return [];
    const start = Math.max(0, cp.offset - bytes);
    const buf = Buffer.alloc(cp.offset - start);
    await fh.read(buf, 0, buf.length, start);
    const lines = buf.toString('utf8').split('\n');
    lines.pop(); // after the last newline: nothing (the checkpoint is at a line's end)
    if (start > 0) lines.shift(); // cut in its middle
    return lines;
  } finally {
    await fh.close();
  }
}
