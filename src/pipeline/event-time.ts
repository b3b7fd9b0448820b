/**
 * An event's time in ms, one reading for the whole pipeline: fail2ban's offset-less local time
 * taken as UTC, so stamps of one source compare with each other (the model's stale-line check,
 * the repeat filter). Not a wall-clock instant: latency.ts reads it in the host's zone for that.
 */
import { daysFromCivil } from '../core/civil-date.js';
import type { F2bEvent } from '../parser/types.js';

/**
 * Date.parse(`${isoTime}Z`); NaN without a time. The parser's canonical form
 * ("2026-12-04T17:30:05.956") is read digit by digit: Date.parse cost as much as the repeat
 * filter's hash (≈ 230 ns) on the path every line takes.
 */
export function timeOf(ev: Pick<F2bEvent, 'isoTime'>): number {
  const s = ev.isoTime;
  if (s === undefined) return NaN;
  const t = s.length === 23 ? canonicalMs(s) : NaN;
  return Number.isNaN(t) ? Date.parse(`${s}Z`) : t;
}

/** "YYYY-MM-DDTHH:MM:SS.mmm" as UTC epoch ms; NaN for anything else (the caller falls back to Date.parse). */
function canonicalMs(s: string): number {
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 84 || s.charCodeAt(13) !== 58) return NaN;
  if (s.charCodeAt(16) !== 58 || s.charCodeAt(19) !== 46) return NaN;
  const y = digits(s, 0, 4);
  const mo = digits(s, 5, 2);
  const d = digits(s, 8, 2);
  const h = digits(s, 11, 2);
  const mi = digits(s, 14, 2);
  const sec = digits(s, 17, 2);
  const ms = digits(s, 20, 3);
  // NaN fails every comparison, so a non-digit lands in the fallback too.
  if (!(mo >= 1 && mo <= 12 && d >= 1 && d <= 28 && h <= 23 && mi <= 59 && sec <= 59 && ms >= 0 && y >= 0)) return NaN;
  // Days 29–31 go to Date.parse (month lengths).
  return ((daysFromCivil(y, mo, d) * 24 + h) * 60 + mi) * 60000 + sec * 1000 + ms;
}

function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return NaN;
    v = v * 10 + c;
  }
  return v;
}
