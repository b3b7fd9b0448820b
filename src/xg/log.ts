/**
 * The minimal logger the XG adapters accept (pino's methods fit; so does a test's array).
 * Credentials must never reach it: `secretMasker` rewrites every form a password can take on
 * the wire (raw, XML-escaped, URL-encoded) before a line is handed over.
 */
import { xmlEscape } from './xml.js';

export interface XgLogger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
}

export const silentLogger: XgLogger = { debug() {}, info() {}, warn() {} };

export const MASK = '********';

export function secretMasker(...secrets: string[]): (line: string) => string {
  const forms = new Set<string>();
  for (const s of secrets) {
    if (s === '') continue;
    for (const f of [s, xmlEscape(s), encodeURIComponent(s), new URLSearchParams({ s }).toString().slice(2)]) forms.add(f);
  }
  // Longest first, so a form containing another is masked whole.
  const ordered = [...forms].sort((a, b) => b.length - a.length);
  return (line) => ordered.reduce((acc, f) => acc.split(f).join(MASK), line);
}
