/**
 * The process logger (pino). Two output formats, both written synchronously in-process (no
 * worker-thread transport, so a crash cannot lose the last lines):
 * - json: pino's NDJSON, one object per line;
 * - text: `LEVEL msg key=value …`, one line per event for the journal. Under systemd
 *   (JOURNAL_STREAM set) there is no time stamp, journald adds its own, and each line starts with
 *   a `<N>` syslog priority so `journalctl -p warning` works.
 *
 * Secrets are removed twice: pino `redact` blanks known keys (password, reqxml, authorization),
 * and every finished line is scrubbed of each string `secrets()` returns, in every form it can
 * take on the way (raw, XML-escaped, URL-encoded, JSON-escaped), so a password inside an error
 * message or a nested object cannot reach the log either.
 */
import { pino, type Logger as PinoLogger } from 'pino';
import { secretMasker, xmlEscaped } from './mask.js';

export type Logger = PinoLogger;
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'text' | 'json';

export interface LoggerOptions {
  level: LogLevel;
  format: LogFormat;
  /** Default: process.stderr (stdout stays free for command output). */
  destination?: NodeJS.WritableStream;
  /** Current secrets; called for every line, so passwords read later are covered. */
  secrets?: () => readonly string[];
  /** Journal mode (no time stamp, priority prefix); default: whether JOURNAL_STREAM is set. */
  journal?: boolean;
  env?: NodeJS.ProcessEnv;
}

export const REDACTED = '[redacted]';

const SECRET_KEYS = ['password', 'reqxml', 'authorization'];
const REDACT_PATHS = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.headers.${k}`, `headers.${k}`]);

const LABELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** sd-daemon(3) priorities: debug 7, info 6, warning 4, err 3, crit 2. */
const PRIORITY: Record<number, number> = { 10: 7, 20: 7, 30: 6, 40: 4, 50: 3, 60: 2 };

export function createLogger(opts: LoggerOptions): Logger {
  const dest = opts.destination ?? process.stderr;
  const journal = opts.journal ?? Boolean((opts.env ?? process.env).JOURNAL_STREAM);
  const scrub = scrubber(opts.secrets ?? (() => []));
  const render =
    opts.format === 'json' ? (line: string) => line : (line: string) => textLine(line, { journal, stacks: opts.level === 'debug' });
  const stream = {
    write(line: string): void {
      dest.write(scrub(render(line)));
    },
  };
  return pino(
    {
      level: opts.level,
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      timestamp: opts.format === 'json' ? pino.stdTimeFunctions.isoTime : pino.stdTimeFunctions.epochTime,
      // The journal records pid and host itself.
      ...(opts.format === 'text' ? { base: null } : {}),
    },
    stream,
  );
}

/** Line → line without any form of the current secrets (the masker is rebuilt when they change). */
export function scrubber(secrets: () => readonly string[]): (line: string) => string {
  let key: string | undefined;
  let mask: (line: string) => string = (l) => l;
  return (line) => {
    const list = secrets().filter((s) => s !== '');
    const k = list.join('\0');
    if (k !== key) {
      key = k;
      const json = (s: string) => JSON.stringify(s).slice(1, -1);
      // secretMasker adds the raw, XML- and URL-encoded forms of each; JSON escaping comes on top
      // of those in NDJSON and in quoted text values.
      mask = list.length ? secretMasker(...list.flatMap((s) => [s, json(s), json(xmlEscaped(s))])) : (l) => l;
    }
    return mask(line);
  };
}

const OMIT = new Set(['level', 'time', 'msg', 'pid', 'hostname']);

/** One pino NDJSON line → `[<prio>][time ]LEVEL msg key=value …\n`. */
export function textLine(json: string, opts: { journal: boolean; stacks: boolean }): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const level = typeof o.level === 'number' ? o.level : 30;
  const parts: string[] = [];
  if (!opts.journal && typeof o.time === 'number') parts.push(new Date(o.time).toISOString());
  parts.push(LABELS[level] ?? String(o.level));
  if (typeof o.msg === 'string' && o.msg !== '') parts.push(o.msg.replace(/\r?\n/g, '\\n'));
  const withStack = opts.stacks || level >= 50;
  for (const [k, v] of Object.entries(o)) {
    if (OMIT.has(k)) continue;
    flatten(k, v, parts, withStack);
  }
  return `${opts.journal ? `<${PRIORITY[level] ?? 6}>` : ''}${parts.join(' ')}\n`;
}

function flatten(key: string, v: unknown, out: string[], withStack: boolean): void {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const entries = Object.entries(v);
    if (entries.length === 0) out.push(`${key}={}`);
    for (const [k, sub] of entries) {
      if (k === 'stack' && !withStack) continue;
      flatten(`${key}.${k}`, sub, out, withStack);
    }
    return;
  }
  out.push(`${key}=${value(v)}`);
}

function value(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=\\]+$/.test(v) ? v : JSON.stringify(v);
  if (Array.isArray(v)) return JSON.stringify(v);
  return String(v);
}
