/**
 * The year of a traditional syslog time ("Dec  4 12:00:00", no year), chosen against the reader's
 * clock. Rule: among Y-1, Y, Y+1 (Y = the UTC year of `now`) the latest year in which the stamp
 * exists and lies at most one day after `now`. The day of slack covers a sender whose clock runs
 * a little ahead and the sender's time zone (the wall time is compared as if it were UTC, so a
 * sender east of UTC looks up to 14 h ahead). Consequences: "Dec 31 23:59:59" read on Jan 1 is
 * last year; "Jan  1 00:00:03" read on Dec 31 is next year; a line up to a year old keeps its year;
 * "Feb 29" only exists in leap years, so it can fall back to Y-1 or have no year at all (undefined).
 *
 * Plain arithmetic on days (no Date objects): this runs once per event of a catch-up.
 */
import { daysFromCivil } from '../core/civil-date.js';
import { monthAt } from './header.js';

const DAY_MS = 86_400_000;
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
/** "00" … "99": the two-digit fields of the ISO string without padStart per event. */
const TWO = Array.from({ length: 100 }, (_, n) => (n < 10 ? `0${n}` : `${n}`));

/**
 * "Mmm dd hh:mm:ss" at s[i, i+15) (already checked by the header scanner) → ISO local time without
 * offset ("2026-12-04T12:00:00.000"), or undefined when no candidate year fits or the fields are
 * out of range.
 */
export function bsdIsoTime(s: string, i: number, now: number): string | undefined {
  const mon = monthAt(s, i);
  const d1 = s.charCodeAt(i + 4);
  const day = (d1 === 32 ? 0 : d1 - 48) * 10 + (s.charCodeAt(i + 5) - 48);
  const hh = num2(s, i + 7);
  const mm = num2(s, i + 10);
  const ss = num2(s, i + 13);
  if (mon < 0 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 59) return undefined;
  const year = pickYear(mon, day, hh, mm, ss, now);
  if (year === undefined) return undefined;
  const y = year >= 1000 && year <= 9999 ? `${year}` : String(year).padStart(4, '0');
  return `${y}-${TWO[mon + 1] as string}-${TWO[day] as string}T${s.slice(i + 7, i + 15)}.000`;
}

/** The rule above on broken-down fields (month 0-based); undefined when no candidate exists. */
export function pickYear(mon: number, day: number, hh: number, mm: number, ss: number, now: number): number | undefined {
  if (!Number.isFinite(now)) return undefined;
  const y = utcYear(now);
  const clock = ((hh * 60 + mm) * 60 + ss) * 1000;
  for (let year = y + 1; year >= y - 1; year--) {
    if (day > daysInMonth(year, mon)) continue; // Feb 29 of a common year, Apr 31, …
    if (daysFromCivil(year, mon + 1, day) * DAY_MS + clock <= now + DAY_MS) return year;
  }
  return undefined;
}

let cachedFrom = 0;
let cachedTo = 0;
let cachedYear = 1970;

/** UTC year of an epoch-ms instant; the last year is remembered (a reader's now rarely changes it). */
function utcYear(now: number): number {
  if (now >= cachedFrom && now < cachedTo) return cachedYear;
  const y = new Date(now).getUTCFullYear();
  cachedYear = y;
  cachedFrom = daysFromCivil(y, 1, 1) * DAY_MS;
  cachedTo = daysFromCivil(y + 1, 1, 1) * DAY_MS;
  return y;
}

function daysInMonth(year: number, mon: number): number {
  if (mon !== 1) return MONTH_DAYS[mon] as number;
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
}

function num2(s: string, i: number): number {
  return (s.charCodeAt(i) - 48) * 10 + (s.charCodeAt(i + 1) - 48);
}
