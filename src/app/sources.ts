/**
 * What the runtime knows of each fleet source beside the model (issue 13 item 5): the file it is
 * read from, its last line and the events it sent since the start. The bans each source holds come
 * from the model; snapshot.ts joins both. Bounded by the number of sources (one small object each).
 */

/** A source silent this long is flagged in status (never dropped: its bans stay until `forget`). */
export const SILENT_AFTER_MS = 86_400_000;

export interface SourceActivity {
  path?: string;
  /** Epoch ms the last line was read. */
  lastLineAt?: number;
  events: number;
}

export class SourceBook {
  private readonly book = new Map<string, SourceActivity>();

  private get(name: string): SourceActivity {
    let a = this.book.get(name);
    if (!a) this.book.set(name, (a = { events: 0 }));
    return a;
  }

  /** The tailer follows `path` for `name` (glob mode). */
  found(name: string, path: string): void {
    this.get(name).path = path;
  }

  line(name: string, at: number): void {
    this.get(name).lastLineAt = at;
  }

  event(name: string): void {
    this.get(name).events++;
  }

  /** Sources seen by the tailer or in lines, in name order. */
  entries(): [string, SourceActivity][] {
    return [...this.book].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }
}
