// What a plain `reload` of fail2ban 1.0.2 writes to the log (issue 11: the README said a reload
// unbans and restores everything). Real capture: fail2ban-1.0.2-full-cycle.log with its steps
// file (`reload` at 04:40:23,968, `reload sshd` at 04:40:26,025), read through the real tailer.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import { parseLine } from '../../src/parser/index.js';
import { FIXTURES, follow } from './helpers.js';

const LOG = fileURLToPath(new URL('fail2ban-1.0.2-full-cycle.log', FIXTURES));
const RELOAD_UNBAN = fileURLToPath(new URL('fail2ban-1.0.2-restart-unban-all-reload-unban.log', FIXTURES));

/** The lines from each `from` line to the next `Reload finished.`. */
function blocks(lines: string[], from: RegExp): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!from.test(lines[i] as string)) continue;
    const end = lines.findIndex((l, j) => j > i && /Reload finished\./.test(l));
    out.push(lines.slice(i, end + 1));
  }
  return out;
}

const events = (lines: string[]) =>
  lines.map((l) => parseLine(l)).flatMap((r) => (r.kind === 'event' ? [`${r.event.type} ${r.event.ip ?? ''}`.trim()] : []));

/** Addresses banned and not unbanned before line `upTo`. */
function standing(lines: string[], upTo: number): Set<string> {
  const s = new Set<string>();
  for (const l of lines.slice(0, upTo)) {
    const r = parseLine(l);
    if (r.kind !== 'event' || !r.event.ip) continue;
    if (/ban/i.test(r.event.type) && !/unban/i.test(r.event.type)) s.add(`${r.event.jail}/${r.event.ip}`);
    if (/unban/i.test(r.event.type)) s.delete(`${r.event.jail}/${r.event.ip}`);
  }
  return s;
}

async function tailed(path: string): Promise<string[]> {
  const total = readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '').length;
  const f = follow({ path, startAt: 'beginning', watch: false });
  await f.seen(readFileSync(path, 'utf8').trimEnd().split('\n').at(-1) as string);
  expect(f.lines.length).toBe(total);
  return f.texts();
}

describe('fail2ban 1.0.2 reload, as logged', () => {
  it('a plain `reload` (and `reload JAIL`) logs no Unban and no Ban although bans stand', async () => {
    const lines = await tailed(LOG);
    const plain = blocks(lines, /INFO {4}Reload all jails$/);
    const one = blocks(lines, /INFO {4}Reload jail sshd$/);
    expect(plain.length).toBeGreaterThanOrEqual(1);
    expect(one.length).toBeGreaterThanOrEqual(1);
    const first = lines.indexOf(plain[0]?.[0] as string);
    expect(standing(lines, first).size).toBeGreaterThan(0);
    for (const b of [...plain, ...one]) expect(events(b).filter((e) => /ban/i.test(e))).toEqual([]);
  });

  it('`reload --unban` does log an Unban for every standing ban, and restores nothing', async () => {
    const lines = await tailed(RELOAD_UNBAN);
    const [b] = blocks(lines, /INFO {4}Reload all jails$/);
    expect(b).toBeDefined();
    const evs = events(b as string[]);
    expect(evs.some((e) => /^unban /i.test(e))).toBe(true);
    expect(evs.filter((e) => /ban/i.test(e) && !/unban/i.test(e))).toEqual([]);
  });
});
