import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, REDACTED, type LogFormat } from '../../src/util/log.js';
import { xmlEscaped } from '../../src/util/mask.js';

const PASSWORD = 'Pa$$ w&rd<"\\>/?x';
const FORMS = [PASSWORD, xmlEscaped(PASSWORD), encodeURIComponent(PASSWORD), new URLSearchParams({ p: PASSWORD }).toString().slice(2)];

function capture(): { stream: Writable; lines: () => string[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l !== ''),
  };
}

/** Every JSON-escaped variant too: the NDJSON line holds strings escaped once more. */
function allForms(): string[] {
  return FORMS.flatMap((f) => [f, JSON.stringify(f).slice(1, -1)]);
}

describe.each<LogFormat>(['text', 'json'])('createLogger (%s)', (format) => {
  it('never writes the password: not in msg, not in an error message, not in nested objects, in any encoding', () => {
    const out = capture();
    const log = createLogger({ level: 'debug', format, destination: out.stream, secrets: () => [PASSWORD], journal: false });
    for (const form of FORMS) {
      log.info(`logging in with ${form}`);
      log.error({ err: new Error(`request failed: <Password>${form}</Password>`) }, 'request failed');
      log.warn({ request: { body: { xml: `<Login><Password>${form}</Password></Login>` }, url: `https://fw/?p=${form}` } }, 'nested');
      log.error(new Error(`thrown with ${form}`));
    }
    log.info({ password: 'other-secret', req: { reqxml: '<x/>', headers: { authorization: 'Basic abc' } } }, 'known keys');
    const text = out.lines().join('\n');
    expect(out.lines()).toHaveLength(4 * FORMS.length + 1);
    for (const f of allForms()) expect(text).not.toContain(f);
    // Known keys are redacted even when they are not registered secrets.
    expect(text).not.toContain('other-secret');
    expect(text).not.toContain('Basic abc');
    expect(text).toContain(REDACTED);
    expect(text).toContain('********');
  });

  it('picks up secrets registered after the logger was created', () => {
    const out = capture();
    const secrets: string[] = [];
    const log = createLogger({ level: 'info', format, destination: out.stream, secrets: () => secrets });
    log.info(`first ${PASSWORD}`);
    secrets.push(PASSWORD);
    log.info(`second ${PASSWORD}`);
    const [first, second] = out.lines();
    expect(first).toContain(PASSWORD.slice(0, 3));
    expect(second).not.toContain(PASSWORD);
  });

  it('respects the level', () => {
    const out = capture();
    const log = createLogger({ level: 'warn', format, destination: out.stream });
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    expect(out.lines()).toHaveLength(2);
  });
});

describe('text format', () => {
  it('is LEVEL msg key=value, with a time stamp outside the journal', () => {
    const out = capture();
    const log = createLogger({ level: 'info', format: 'text', destination: out.stream, env: {} });
    log.info({ firewall: 'main', count: 3, ok: true, note: 'two words', list: [1, 2], nested: { group: 'f2b_x' } }, 'synced group');
    expect(out.lines()).toHaveLength(1);
    expect(out.lines()[0]).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO synced group firewall=main count=3 ok=true note="two words" list=\[1,2\] nested\.group=f2b_x$/,
    );
  });

  it('under systemd (JOURNAL_STREAM) drops the time stamp and prefixes the syslog priority', () => {
    const out = capture();
    const log = createLogger({ level: 'debug', format: 'text', destination: out.stream, env: { JOURNAL_STREAM: '8:12345' } });
    log.debug('d');
    log.info({ a: 1 }, 'i');
    log.warn('w');
    log.error('e');
    expect(out.lines()).toEqual(['<7>DEBUG d', '<6>INFO i a=1', '<4>WARN w', '<3>ERROR e']);
  });

  it('keeps an event on one line and shows error fields', () => {
    const out = capture();
    const log = createLogger({ level: 'info', format: 'text', destination: out.stream, journal: true });
    const err = Object.assign(new Error('disk\nfull'), { code: 'ENOSPC' });
    log.warn({ err }, 'save failed\nretrying');
    log.error({ err }, 'fatal');
    const [warn, error] = out.lines();
    expect(out.lines()).toHaveLength(2);
    expect(warn).toBe('<4>WARN save failed\\nretrying err.type=Error err.message="disk\\nfull" err.code=ENOSPC');
    // Stacks only for errors (one quoted value, still one line).
    expect(error).toMatch(
      /^<3>ERROR fatal err\.type=Error err\.message="disk\\nfull" err\.stack="Error: disk\\nfull\\n {4}at .*" err\.code=ENOSPC$/,
    );
  });
});

describe('json format', () => {
  it('is valid NDJSON with level, ISO time, msg and fields', () => {
    const out = capture();
    const log = createLogger({ level: 'info', format: 'json', destination: out.stream, env: { JOURNAL_STREAM: '1:2' } });
    log.info({ firewall: 'main', nested: { n: 1 } }, 'hello');
    log.warn({ err: new Error('boom') }, 'warned');
    const lines = out.lines();
    expect(lines).toHaveLength(2);
    const [a, b] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(a).toMatchObject({ level: 30, msg: 'hello', firewall: 'main', nested: { n: 1 } });
    expect(new Date(a?.time as string).toISOString()).toBe(a?.time);
    expect(b).toMatchObject({ level: 40, msg: 'warned', err: { type: 'Error', message: 'boom' } });
  });

  it('stays valid JSON after secrets are masked', () => {
    const out = capture();
    const log = createLogger({ level: 'info', format: 'json', destination: out.stream, secrets: () => [PASSWORD] });
    log.info({ v: PASSWORD, x: `"${PASSWORD}"` }, PASSWORD);
    const o = JSON.parse(out.lines()[0] as string) as Record<string, unknown>;
    expect(o).toMatchObject({ v: '********', x: '"********"', msg: '********' });
  });
});
