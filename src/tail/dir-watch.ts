/**
 * Directory watching: wake-ups for the tailers, never a source of lines (the poll is the backstop,
 * so a missed event costs latency, not lines).
 *
 * node's fs.watch (inotify on Linux) rather than chokidar, for a measured reason: chokidar throttles
 * a file's change events and checks its mtime before passing one on. In 40 two-line bursts (a
 * write, then another 1 ms later, 30 ms apart; bench/burst-latency.ts) 13–25 second lines waited
 * over 1 s, for the 5 s poll: in those bursts neither write had produced an event. fs.watch
 * reported every write (80 of 80). The tailer only needs "something in this directory changed":
 * it stats and compares files itself.
 *
 * Glob mode shares one watcher per directory among every followed file in it: a watcher per file
 * had cost a scan of the whole directory each with chokidar (100 logs in one directory: +54 MB RSS,
 * bench/tail-sources.ts --layout flat), and one inotify watch is all a directory needs.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, join } from 'node:path';

import { Observable, filter, share } from 'rxjs';

/**
 * Calls `onEvent` with the name of every entry of `dir` that changed (null when the platform
 * names none). Undefined when the directory cannot be watched (missing: try again later); a
 * watcher that fails later is closed and reported through `onError` too.
 */
export function watchDirectory(
  dir: string,
  onEvent: (name: string | null) => void,
  onError: (err: unknown) => void,
): FSWatcher | undefined {
  let w: FSWatcher;
  try {
    w = watch(dir, (_event, name) => onEvent(name === null ? null : String(name)));
  } catch (err) {
    onError(err);
    return undefined;
  }
  w.on('error', (err) => {
    w.close();
    onError(err);
  });
  return w;
}

/**
 * Paths of the entries of `dir` that changed (hidden ones excluded; '' when the platform named
 * none); the watcher runs while subscribed.
 */
export function dirEvents(dir: string, onError: (err: unknown) => void): Observable<string> {
  return new Observable<string>((subscriber) => {
    const watcher = watchDirectory(
      dir,
      (name) => {
        if (name === null) subscriber.next('');
        else if (!name.startsWith('.')) subscriber.next(join(dir, name));
      },
      onError,
    );
    return () => watcher?.close();
  }).pipe(share());
}

/** The events of one file (and its rotated siblings: `NAME.1`, `NAME-2026…`) among a directory's. */
export function fileEvents(events: Observable<string>, name: string): Observable<string> {
  // A nameless event may concern any file.
  return events.pipe(filter((p) => p === '' || basename(p).startsWith(name)));
}
