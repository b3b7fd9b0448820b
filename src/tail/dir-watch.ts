/**
 * One directory watcher shared by every followed file in it (glob mode). A chokidar watcher per
 * file, as tailFile makes when it is alone, costs a scan of the whole directory each: with 100 logs
 * in one directory (`/var/log/remote/*.log`) that was 100 x 100 entries at start, +54 MB RSS at the
 * start and +14 MB still 30 s later (bench/tail-sources.ts --layout flat). Events only wake the
 * tailers (the shared poll is the backstop), so a missed or coalesced one costs latency, not lines.
 */
import { basename } from 'node:path';

import { watch } from 'chokidar';
import { Observable, filter, share } from 'rxjs';

/** Paths of the entries of `dir` that changed (hidden ones excluded); the watcher runs while subscribed. */
export function dirEvents(dir: string, onError: (err: unknown) => void): Observable<string> {
  return new Observable<string>((subscriber) => {
    const watcher = watch(dir, {
      ignoreInitial: true,
      depth: 0,
      awaitWriteFinish: false,
      ignored: (p: string) => p !== dir && basename(p).startsWith('.'),
    });
    watcher.on('all', (_event, path) => subscriber.next(path));
    watcher.on('error', onError);
    return () => {
      watcher.close().catch(() => undefined);
    };
  }).pipe(share());
}

/** The events of one file (and its rotated siblings: `NAME.1`, `NAME-2026…`) among a directory's. */
export function fileEvents(events: Observable<string>, name: string): Observable<string> {
  return events.pipe(filter((p) => basename(p).startsWith(name)));
}
