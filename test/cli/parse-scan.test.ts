// The byte-level fast path of `parse` against the generic one: whatever fastEvent writes must be
// exactly what parseLine + jsonLine/textLine give for the line, on every real fixture line, on
// hand-made edge cases and on generated lines; and the fast path must really be taken for
// fail2ban's common Ban/Unban shape (else the bench measures the slow path).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { DECLINED, NOT_EVENT, OutBuffer, Scanner, WRITTEN, fastEvent, jsonLine, newTotals, textLine, type Format } from '../../src/cli/commands/parse-scan.js';
import { parseLine } from '../../src/parser/index.js';
import { listFixtures, readFixture, splitLines } from '../parser/helpers.js';

const FORMATS: Format[] = [
  { json: true, raw: false },
  { json: true, raw: true },
  { json: false, raw: false },
  { json: false, raw: true },
];

/** What the generic path prints for one line (without its newline). */
function generic(line: string, fmt: Format): string {
  const r = parseLine(line);
  if (r.kind !== 'event') return '';
  return fmt.json ? jsonLine(r.event, fmt.raw) : textLine(r.event, fmt.raw);
}

/** fastEvent on one line: its answer and what it wrote. */
function fast(line: string, fmt: Format): { result: number; out: string } {
  const b = Buffer.from(`${line}\n`, 'utf8');
  const chunks: Buffer[] = [];
  const out = new OutBuffer(
    (full) => chunks.push(Buffer.from(full)),
    () => Buffer.alloc(1 << 20),
  );
  const result = fastEvent(b, 0, b.length - 1, out, fmt);
  out.finish();
  return { result, out: Buffer.concat(chunks).toString('utf8') };
}

/** The whole text through the Scanner, in chunks of `size` bytes. */
function scan(text: string, fmt: Format, size: number): { out: string; events: number; rejected: number; lines: number } {
  const chunks: Buffer[] = [];
  const out = new OutBuffer(
    (full) => chunks.push(Buffer.from(full)),
    () => Buffer.alloc(4096),
  );
  const totals = newTotals();
  const sc = new Scanner(out, totals, fmt);
  const bytes = Buffer.from(text, 'utf8');
  for (let p = 0; p < bytes.length; p += size) sc.chunk(bytes.subarray(p, p + size));
  sc.end();
  out.finish();
  return { out: Buffer.concat(chunks).toString('utf8'), events: totals.events, rejected: totals.rejected, lines: totals.lines };
}

function checkLine(line: string, fmt: Format): number {
  const f = fast(line, fmt);
  if (f.result === WRITTEN) expect(f.out, line).toBe(generic(line, fmt));
  else expect(f.out, line).toBe('');
  if (f.result === NOT_EVENT) expect(parseLine(line).kind, line).toBe('none');
  return f.result;
}

const fixtureLines = listFixtures(/\.log$/).flatMap((name) => splitLines(readFixture(name)));

const T = '2026-11-25 04:39:52,876';
const A = `${T} fail2ban.actions        [4711]: NOTICE  `;
const EDGE = [
  `${A}[sshd] Ban 192.0.2.1`,
  `${A}[sshd] Ban 192.0.2.01`,
  `${A}[sshd] Ban 0.0.0.0`,
  `${A}[sshd] Ban 256.1.1.1`,
  `${A}[sshd] Ban 2001:DB8::1`,
  `${A}[sshd] Ban 2001:db8:0:0:0:0:0:1`,
  `${A}[sshd] Ban 2001:db8::0:1`,
  `${A}[sshd] Ban 2001:db8:0:0:1::1`,
  `${A}[sshd] Ban ::ffff:192.0.2.1`,
  `${A}[sshd] Ban ::ffff:c000:201`,
  `${A}[sshd] Ban ::`,
  `${A}[sshd] Ban ::1`,
  `${A}[sshd] Ban 2001:db8::`,
  `${A}[sshd] Ban 2001:db8:1:2:3:4:5:6:7`,
  `${A}[sshd] Ban 2001:db8::1::2`,
  `${A}[sshd] Ban 192.0.2.0/24`,
  `${A}[sshd] Ban example.org`,
  `${A}[sshd] Unban 198.51.100.7`,
  `${A}[sshd] Restore Ban 198.51.100.7`,
  `${A}[sshd] Repeal Ban 198.51.100.7`,
  `${A}[sshd] 198.51.100.7 already banned`,
  `${A}[sshd] Ban 198.51.100.7   `,
  `${A}[sshd] Ban 198.51.100.7\r`,
  `${A}[sshd] Ban 198.51.100.7\t`,
  `${A}[my "jail"] Ban 198.51.100.7`,
  `${A}[back\\slash] Ban 198.51.100.7`,
  `${A}[jäil] Ban 198.51.100.7`,
  `${A}[] Ban 198.51.100.7`,
  `${A}[sshd]  Ban 198.51.100.7`,
  `${A}[sshd] ban 198.51.100.7`,
  `${A}Ban 198.51.100.7`,
  `${A}[sshd] Found 198.51.100.7`,
  `${T} fail2ban.actions        [0042]: NOTICE  [sshd] Ban 198.51.100.7`,
  `${T} fail2ban.actions        [0]: NOTICE  [sshd] Ban 198.51.100.7`,
  `${T} fail2ban.actions2       [4711]: NOTICE  [sshd] Ban 198.51.100.7`,
  `${T} fail2ban.actions: NOTICE  [sshd] Ban 198.51.100.7`,
  `${T} fail2ban.actions        [4711]: notice  [sshd] Ban 198.51.100.7`,
  `${T} fail2ban.actions        [4711]: NOTICE [sshd] Ban 198.51.100.7`,
  `${T} fail2ban.actions        [4711]: NOTICE  [sshd] Ban 198.51.100.7 (user "x\\")`,
  `2026-11-25 04:39:52.876 fail2ban.actions        [4711]: NOTICE  [sshd] Ban 198.51.100.7`,
  `2026-11-2x 04:39:52,876 fail2ban.actions        [4711]: NOTICE  [sshd] Ban 198.51.100.7`,
  `${T} fail2ban.actions        [4711]: NOTICE  [sshd] Ban 198.51.100.7 \u00e9`,
];

describe('fastEvent agrees with the generic path', () => {
  it.each(FORMATS.map((f) => [`json ${f.json} raw ${f.raw}`, f] as const))('every line of every real fixture (%s)', (_name, fmt) => {
    const seen = new Map<number, number>();
    for (const line of fixtureLines) {
      const r = checkLine(line, fmt);
      seen.set(r, (seen.get(r) ?? 0) + 1);
    }
    // The real 1.0.2 captures are in the common shape: the fast path must take their bans.
    expect(seen.get(WRITTEN) ?? 0).toBeGreaterThan(20);
  });

  it.each(FORMATS.map((f) => [`json ${f.json} raw ${f.raw}`, f] as const))('hand-made edge cases (%s)', (_name, fmt) => {
    const results = EDGE.map((line) => checkLine(line, fmt));
    // The plain shapes go fast; the odd ones fall back (or are certainly no event).
    expect(results[0]).toBe(WRITTEN);
    expect(results[EDGE.indexOf(`${A}[sshd] Unban 198.51.100.7`)]).toBe(WRITTEN);
    expect(results[EDGE.indexOf(`${A}[sshd] 198.51.100.7 already banned`)]).toBe(WRITTEN);
    expect(results[EDGE.indexOf(`${A}Ban 198.51.100.7`)]).toBe(NOT_EVENT);
    expect(results[EDGE.indexOf(`${A}[sshd] Ban 256.1.1.1`)]).toBe(DECLINED);
  });

  it('generated lines in the fast shape with random addresses, jails, PIDs and tails', () => {
    const v4 = fc.tuple(fc.nat(300), fc.nat(300), fc.nat(300), fc.nat(300), fc.boolean()).map(([a, b, c, d, pad]) => `${pad ? '0' : ''}${a}.${b}.${c}.${d}`);
    const word = fc.integer({ min: 0, max: 0xffff }).map((n) => n.toString(16));
    const v6 = fc
      .tuple(fc.array(word, { minLength: 8, maxLength: 8 }), fc.nat(8), fc.nat(8), fc.boolean())
      .map(([ws, from, len, upper]) => {
        // Zero a run, compress it (or not), maybe upper-case: canonical and non-canonical forms.
        const w = ws.map((x, i) => (i >= from && i < from + len ? '0' : x));
        let s = w.join(':');
        if (len >= 1 && from < 8) s = `${w.slice(0, from).join(':')}::${w.slice(Math.min(8, from + len)).join(':')}`;
        return upper ? s.toUpperCase() : s;
      });
    const jail = fc.oneof(fc.constantFrom('sshd', 'nginx-http-auth', 'postfix-sasl', 'recidive'), fc.string({ minLength: 0, maxLength: 12 }));
    const verb = fc.constantFrom('Ban ', 'Unban ', 'Restore Ban ', 'Repeal Ban ', 'already');
    const line = fc
      .tuple(fc.oneof(v4, v6, fc.string({ maxLength: 10 })), jail, verb, fc.oneof(fc.integer({ min: 0, max: 99999 }).map(String), fc.constant('007')), fc.constantFrom('', ' ', '\r', ' x', '\t'))
      .map(([ip, j, v, pid, tail]) => {
        const msg = v === 'already' ? `[${j}] ${ip} already banned` : `[${j}] ${v}${ip}`;
        return `${T} fail2ban.actions        [${pid}]: NOTICE  ${msg}${tail}`;
      });
    let written = 0;
    fc.assert(
      fc.property(line, fc.constantFrom(...FORMATS), (l, fmt) => {
        if (checkLine(l, fmt) === WRITTEN) written++;
      }),
      { numRuns: 3000 },
    );
    expect(written).toBeGreaterThan(100);
  });
});

describe('Scanner', () => {
  const text = [...fixtureLines, ...EDGE].join('\n');
  const lines = text.split('\n');
  it.each(FORMATS.map((f) => [`json ${f.json} raw ${f.raw}`, f] as const))('equals the generic path line by line, whatever the chunk size (%s)', (_name, fmt) => {
    const expected = lines.map((l) => generic(l.endsWith('\r') ? l.slice(0, -1) : l, fmt)).join('');
    const expectedEvents = lines.filter((l) => parseLine(l).kind === 'event').length;
    const expectedRejected = lines.filter((l) => parseLine(l).kind === 'rejected').length;
    for (const size of [1, 7, 4096, 1 << 20]) {
      const r = scan(text, fmt, size);
      expect(r.out).toBe(expected);
      expect(r.events).toBe(expectedEvents);
      expect(r.rejected).toBe(expectedRejected);
      expect(r.lines).toBe(lines.length);
    }
    expect(expectedRejected).toBeGreaterThan(0);
  });
});
