/**
 * Lines of a file or a stream for the commands that read logs whole (`parse`, `replay`), through
 * node:readline: streaming, so a year of logs never sits in memory at once. CRLF counts as one line
 * end; the parser drops a CR left at a line's end anyway.
 */
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

export function streamLines(input: Readable | AsyncIterable<Buffer | string>): AsyncIterable<string> {
  return createInterface({ input: input as Readable, crlfDelay: Infinity });
}

/** The file's lines; rejects with the errno error (ENOENT, EISDIR, EACCES) when it cannot be read. */
export async function* fileLines(path: string): AsyncGenerator<string> {
  const fh = await open(path, 'r');
  try {
    yield* streamLines(fh.createReadStream({ autoClose: false }));
  } finally {
    await fh.close();
  }
}
