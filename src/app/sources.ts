/**
 * What the runtime knows of each fleet source beside the model (issue 13 item 5): the file it is
 * read from and its last line. The bans and events of each source come from the model; sources()
 * joins both for the status. Bounded by the number of sources (one small object each).
 */
import type { SourceSnapshot } from '../metrics/status.js';
import type { SourceView } from '../pipeline/model.js';

/** A source silent this long is flagged in status (never dropped: its bans stay until `forget`). */
export const SILENT_AFTER_MS = 86_400_000;

export interface SourceActivity {
  path?: string;
  /** Epoch ms the file was last written when found (a source quiet since before this start). */
  writtenAt?: number;
  /** Epoch ms its last line was read. */
  lastLineAt?: number;
}

export class SourceBook {
  private readonly book = new Map<string, SourceActivity>();

  private get(name: string): SourceActivity {
    let a = this.book.get(name);
    if (!a) this.book.set(name, (a = {}));
    return a;
  }

  /** The tailer follows `path` for `name` (glob mode); `writtenAt`: the file's mtime then. */
  found(name: string, path: string, writtenAt?: number): void {
    const a = this.get(name);
    a.path = path;
    if (writtenAt !== undefined) a.writtenAt = writtenAt;
  }

  line(name: string, at: number): void {
    this.get(name).lastLineAt = at;
  }

  activity(name: string): SourceActivity | undefined {
    return this.book.get(name);
  }

  names(): IterableIterator<string> {
    return this.book.keys();
  }
}

/**
 * Every named source the model or the tailer knows, in name order; undefined for a one-host setup
 * (only the unnamed source), so its status stays as it was. Silent: nothing from it (no line read,
 * no event, no file write) for SILENT_AFTER_MS.
 */
export function sourcesSnapshot(views: readonly SourceView[], book: SourceBook, now: number): SourceSnapshot[] | undefined {
  const byName = new Map(views.filter((v) => v.source !== '').map((v) => [v.source, v]));
  const names = [...new Set([...byName.keys(), ...book.names()])].filter((n) => n !== '').sort();
  if (names.length === 0) return undefined;
  return names.map((name) => {
    const v = byName.get(name);
    const a = book.activity(name);
    const last = Math.max(a?.lastLineAt ?? -Infinity, a?.writtenAt ?? -Infinity, v?.lastEventAt ?? -Infinity);
    const out: SourceSnapshot = {
      name,
      events: v?.events ?? 0,
      bans: v?.slots ?? 0,
      silent: Number.isFinite(last) && now - last > SILENT_AFTER_MS,
    };
    if (a?.path !== undefined) out.path = a.path;
    if (a?.lastLineAt !== undefined) out.lastLineAt = new Date(a.lastLineAt).toISOString();
    return out;
  });
}
