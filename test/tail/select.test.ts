import { describe, expect, it } from 'vitest';

import { parseLogPattern } from '../../src/tail/pattern.js';
import { rotationOriginals, selectSources } from '../../src/tail/select.js';

const flat = parseLogPattern('/r/*');
const dirs = parseLogPattern('/r/*/fail2ban.log');
const none = new Map<string, string>();

describe('rotationOriginals', () => {
  it.each<[string, string[]]>([
    ['web1.log.1', ['web1.log']],
    ['web1.log.2.gz', ['web1.log']],
    ['web1.log-20261204', ['web1.log']],
    ['web1.log-20261204.xz', ['web1.log']],
    ['web1.log.2026-12-04', ['web1.log']],
    ['web1.log-20261204-1733300000', ['web1.log']],
    ['web1-20261204.log', ['web1.log']], // logrotate `extension .log`
    ['web1.1.log', ['web1.log']],
    ['db-1', []], // a dash suffix must be a date
    ['web1', []],
  ])('%s → %j', (name, originals) => {
    expect(rotationOriginals(name)).toEqual(originals);
  });
});

describe('selectSources', () => {
  it('names each file by its first `*`, in sorted order', () => {
    const sel = selectSources(dirs, ['/r/web2/fail2ban.log', '/r/web1/fail2ban.log'], none);
    expect(sel.add).toEqual([
      { source: 'web1', path: '/r/web1/fail2ban.log' },
      { source: 'web2', path: '/r/web2/fail2ban.log' },
    ]);
  });

  it('leaves out compressed files and rotated siblings of another candidate', () => {
    const files = [
      '/r/web1.log',
      '/r/web1.log.1',
      '/r/web1.log.2.gz',
      '/r/web1.log-20261204',
      '/r/old.log.3.zst',
      '/r/x.bz2',
      '/r/y.lz4',
      '/r/z.xz',
    ];
    expect(selectSources(flat, files, none).add.map((a) => a.source)).toEqual(['web1.log']);
  });

  it('a followed file keeps its siblings out even while it is missing (between rename and create)', () => {
    const sel = selectSources(flat, ['/r/web1.log.1'], new Map([['web1.log', '/r/web1.log']]));
    expect(sel.add).toEqual([]);
  });

  it('does not mistake address-named or dash-numbered hosts for rotated files', () => {
    const files = ['/r/10.0.0.1', '/r/10.0.0.12', '/r/db', '/r/db-1', '/r/web1', '/r/web10'];
    expect(selectSources(flat, files, none).add.map((a) => a.source)).toEqual(['10.0.0.1', '10.0.0.12', 'db', 'db-1', 'web1', 'web10']);
  });

  it('never merges two files naming one source: the first sorted (or the followed one) keeps it', () => {
    const two = parseLogPattern('/r/*/f2b-*.log');
    const sel = selectSources(two, ['/r/web1/f2b-sshd.log', '/r/web1/f2b-nginx.log'], none);
    expect(sel.add).toEqual([{ source: 'web1', path: '/r/web1/f2b-nginx.log' }]);
    expect(sel.duplicates).toEqual([{ source: 'web1', path: '/r/web1/f2b-sshd.log', kept: '/r/web1/f2b-nginx.log' }]);
    const later = selectSources(two, ['/r/web1/f2b-a.log', '/r/web1/f2b-sshd.log'], new Map([['web1', '/r/web1/f2b-sshd.log']]));
    expect(later.add).toEqual([]);
    expect(later.duplicates).toEqual([{ source: 'web1', path: '/r/web1/f2b-a.log', kept: '/r/web1/f2b-sshd.log' }]);
  });

  it('reports names that cannot be sources and skips files already followed', () => {
    const sel = selectSources(flat, ['/r/web 1', '/r/web2'], new Map([['web2', '/r/web2']]));
    expect(sel.invalid).toEqual([{ path: '/r/web 1', name: 'web 1' }]);
    expect(sel.add).toEqual([]);
    expect(sel.duplicates).toEqual([]);
  });
});
