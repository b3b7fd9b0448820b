// Minimal reader for systemd unit files (systemd.syntax(7)): enough to check our own unit's keys and
// to run its command lines without systemd. Not a full implementation: no specifiers (%n …) and no
// environment variable expansion — the shipped unit uses neither.
import { readFileSync } from 'node:fs';

export interface UnitEntry {
  key: string;
  value: string;
  line: number;
}

/** Section name → entries in file order (keys may repeat; an empty value is a reset in systemd). */
export type Unit = Map<string, UnitEntry[]>;

export function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: UnitEntry[] | undefined;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let line = (lines[i] ?? '').trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    // A trailing backslash joins the next line (comment lines in between are skipped).
    while (line.endsWith('\\') && i + 1 < lines.length) {
      const next = (lines[++i] ?? '').trim();
      if (next.startsWith('#') || next.startsWith(';')) continue;
      line = `${line.slice(0, -1).trimEnd()} ${next}`;
    }
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      const name = header[1] ?? '';
      section = unit.get(name) ?? [];
      unit.set(name, section);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0 || !section) throw new Error(`unit line ${lineNo}: not a key=value inside a section: ${line}`);
    section.push({ key: line.slice(0, eq).trim(), value: line.slice(eq + 1).trim(), line: lineNo });
  }
  return unit;
}

export function readUnit(file: string): Unit {
  return parseUnit(readFileSync(file, 'utf8'));
}

/** Every value of `key` in `section`, in order (empty assignments included). */
export function unitValues(unit: Unit, section: string, key: string): string[] {
  return (unit.get(section) ?? []).filter((e) => e.key === key).map((e) => e.value);
}

/** The effective single value: the last assignment, as systemd does for scalar settings. */
export function unitValue(unit: Unit, section: string, key: string): string | undefined {
  return unitValues(unit, section, key).at(-1);
}

/**
 * Splits an Exec*= value into argv like systemd: drops the special prefixes (@ - : + ! !!), splits on
 * whitespace, honours "…" and '…' quoting and C-style backslash escapes.
 */
export function splitExecLine(value: string): string[] {
  const rest = value.replace(/^[@\-:+!]+/, '');
  const argv: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'", ' ': ' ', ';': ';' };
  for (let i = 0; i < rest.length; i++) {
    const ch = rest[i] ?? '';
    if (ch === '\\') {
      const e = rest[++i];
      if (e === undefined) throw new Error(`exec line ends with a backslash: ${value}`);
      cur += escapes[e] ?? e;
      inWord = true;
    } else if (quote) {
      if (ch === quote) quote = undefined;
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) argv.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (quote) throw new Error(`unterminated quote in exec line: ${value}`);
  if (inWord) argv.push(cur);
  return argv;
}

/** ExecStart= and every ExecStartPre= of a service unit file, as argv arrays. */
export function unitCommandLines(file: string): { execStart: string[]; execStartPre: string[][] } {
  const unit = readUnit(file);
  const starts = unitValues(unit, 'Service', 'ExecStart').filter((v) => v !== '');
  if (starts.length !== 1) throw new Error(`${file}: expected exactly one ExecStart=, found ${starts.length}`);
  return {
    execStart: splitExecLine(starts[0] ?? ''),
    execStartPre: unitValues(unit, 'Service', 'ExecStartPre')
      .filter((v) => v !== '')
      .map(splitExecLine),
  };
}
