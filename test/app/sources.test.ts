import { describe, expect, it } from 'vitest';
import { SILENT_AFTER_MS, SourceBook, sourcesSnapshot } from '../../src/app/sources.js';
import type { SourceView } from '../../src/pipeline/model.js';

const view = (source: string, slots: number, lastEventAt?: number): SourceView => ({
  source,
  slots,
  waiting: 0,
  stopping: false,
  events: slots,
  ...(lastEventAt !== undefined && { lastEventAt }),
});

describe('sourcesSnapshot', () => {
  it('a one-host setup has no sources section', () => {
    expect(sourcesSnapshot([view('', 5)], new SourceBook(), 0)).toBeUndefined();
  });

  it('joins the model (bans, events) and the tailer (file, last line); a quiet source is flagged, never dropped', () => {
    const now = 10 * SILENT_AFTER_MS;
    const book = new SourceBook();
    book.found('web1', '/r/web1/fail2ban.log', now - 1000);
    book.line('web1', now - 500);
    // Found with an old file and no line since: silent.
    book.found('web3', '/r/web3/fail2ban.log', now - 2 * SILENT_AFTER_MS);
    const s = sourcesSnapshot([view('', 0), view('web1', 3, now - 600), view('web2', 7, now - 3 * SILENT_AFTER_MS)], book, now);
    expect(s).toEqual([
      { name: 'web1', path: '/r/web1/fail2ban.log', lastLineAt: new Date(now - 500).toISOString(), events: 3, bans: 3, silent: false },
      // Only in the model (its file gone): still listed with its bans.
      { name: 'web2', events: 7, bans: 7, silent: true },
      { name: 'web3', path: '/r/web3/fail2ban.log', events: 0, bans: 0, silent: true },
    ]);
  });
});
