/**
 * The year of a traditional syslog time ("Dec  4 12:00:00", no year), chosen against the reader's
 * clock. Rule: among Y-1, Y, Y+1 (Y = the UTC year of `now`) the latest year in which the stamp
 * exists and lies at most one day after `now`. The day of slack covers a sender whose clock runs
 * a little ahead and the sender's time zone (the wall time is compared as if it were UTC, so a
 * sender east of UTC looks up to 14 h ahead). Consequences: "Dec 31 23:59:59" read on Jan 1 is
 * last year; "Jan  1 00:00:03" read on Dec 31 is next year; a line up to a year old keeps its year;
 * "Feb 29" only exists in leap years, so it can fall back to Y-1 or have no year at all (undefined).
 */

const MONTHS = 'JanFebMarAprMayJunJulAugSepOctNovDec';
const DAY_MS = 86_400_000;

/**
 * "Mmm dd hh:mm:ss" at s[i, i+15) (already checked by the header scanner) → ISO local time without
 * offset ("2026-12-04T12:00:00.000"), or undefined when no candidate year fits or the fields are
 * out of range.
 */
export function bsdIsoTime(s: string, i: number, now: number): string | undefined {
  const mon = MONTHS.indexOf(s.slice(i, i + 3)) / 3;
  const d1 = s.charCodeAt(i + 4);
  const day = (d1 === 32 ? 0 : d1 - 48) * 10 + (s.charCodeAt(i + 5) - 48);
  const hh = num2(s, i + 7);
  const mm = num2(s, i + 10);
  const ss = num2(s, i + 13);
  if (!Number.isInteger(mon) || mon < 0 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 59) return undefined;
  const year = pickYear(mon, day, hh, mm, ss, now);
  if (year === undefined) return undefined;
  return `${pad(year, 4)}-${pad(mon + 1, 2)}-${pad(day, 2)}T${s.slice(i + 7, i + 15)}.000`;
}

/** The rule above on broken-down fields (month 0-based); undefined when no candidate exists. */
export function pickYear(mon: number, day: number, hh: number, mm: number, ss: number, now: number): number | undefined {
  if (!Number.isFinite(now)) return undefined;
  const y = new Date(now).getUTCFullYear();
  for (let year = y + 1; year >= y - 1; year--) {
    const t = utc(year, mon, day, hh, mm, ss);
    if (t === undefined) continue; // Feb 29 of a common year, Apr 31, …
    if (t <= now + DAY_MS) return year;
  }
  return undefined;
}

/** Epoch ms of the fields read as UTC, or undefined when the date does not exist in that year. */
function utc(year: number, mon: number, day: number, hh: number, mm: number, ss: number): number | undefined {
  const d = new Date(0);
  d.setUTCFullYear(year, mon, day); // setUTCFullYear, not Date.UTC: years 0–99 stay themselves
  d.setUTCHours(hh, mm, ss, 0);
  return d.getUTCMonth() === mon && d.getUTCDate() === day ? d.getTime() : undefined;
}

function num2(s: string, i: number): number {
  return (s.charCodeAt(i) - 48) * 10 + (s.charCodeAt(i + 1) - 48);
}

function pad(n: number, w: number): string {
  return String(n).padStart(w, '0');
}
