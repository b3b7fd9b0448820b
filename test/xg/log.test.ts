/**
 * The password never leaves the client: driven through every kind of failure against the HTTPS
 * emulator with debug logging on (the process logger, without its own secret scrubbing, so only
 * the client's masking stands between the password and the log) and through the dry-run adapter.
 * Every error, every level of its cause chain, every log line and every dry-run line is searched
 * for the password in each form it takes on the wire.
 */
import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, type LogFormat } from '../../src/util/log.js';
import { DryRunPort } from '../../src/xg/dry-run.js';
import type { GroupRef } from '../../src/xg/port.js';
import { buildDispatcher } from '../../src/xg/tls.js';
import { xmlEscaped as xmlEscape } from '../../src/util/mask.js';
import { startFirewall, type FirewallFixture } from './emulator-fixture.js';

const PASSWORD = `Zq7&<pa ss>"+%2F/='Zq7`;
const G: GroupRef = { name: 'f2b_blockings', family: 'IPv4' };

/** Every spelling the password can take: raw, XML-escaped, URL/form-encoded, JSON-escaped. */
function forms(p: string): string[] {
  const json = (s: string) => JSON.stringify(s).slice(1, -1);
  return [
    ...new Set([p, xmlEscape(p), encodeURIComponent(p), new URLSearchParams({ p }).toString().slice(2), json(p), json(xmlEscape(p))]),
  ];
}

/** Everything an error can show: each level of its cause chain, as text, JSON and inspected (with and without custom inspect). */
function renderings(err: unknown): string[] {
  const out: string[] = [];
  const seen = new Set<unknown>();
  for (let e: unknown = err; e !== undefined && e !== null && !seen.has(e); e = (e as { cause?: unknown }).cause) {
    seen.add(e);
    out.push(String(e), inspect(e, { depth: 8 }), inspect(e, { depth: 8, customInspect: false, showHidden: true }));
    try {
      out.push(JSON.stringify(e));
    } catch {
      /* circular: inspect above already covers it */
    }
    if (e instanceof Error) out.push(e.message, e.stack ?? '');
  }
  return out;
}

function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  return {
    stream: new Writable({
      write(chunk: Buffer | string, _enc, cb) {
        chunks.push(chunk.toString());
        cb();
      },
    }),
    text: () => chunks.join(''),
  };
}

let f: FirewallFixture | undefined;
afterEach(async () => {
  await f?.teardown();
  f = undefined;
});

describe.each(['text', 'json'] as const)('no password anywhere (%s log format)', (format: LogFormat) => {
  it('through auth failure, 5xx, reset, timeouts, refused input, TLS refusal and dry-run', async () => {
    const fw = await startFirewall({ users: { api: PASSWORD } });
    f = fw;
    const out = sink();
    const logger = createLogger({ level: 'debug', format, destination: out.stream, journal: false });
    const errors: unknown[] = [];
    const printed: string[] = [];
    const keep = async (p: Promise<unknown>): Promise<void> => {
      try {
        await p;
      } catch (e) {
        errors.push(e);
        logger.error({ err: e }, 'firewall operation failed');
      }
    };
    const good = fw.client({ username: 'api', password: PASSWORD, log: logger });
    // A password that contains the real one: leaking it leaks the real one too.
    const bad = fw.client({ username: 'api', password: `${PASSWORD}x`, log: logger });
    const dry = new DryRunPort(good, { print: (l) => printed.push(l), hostPrefix: 'f2b_' });

    await good.checkLogin();
    await dry.ensureGroup(G);
    await good.ensureGroup(G);
    await dry.addToGroup(G, ['203.0.113.7', '203.0.113.8']);
    await good.addToGroup(G, ['203.0.113.7']);
    await dry.removeFromGroup(G, ['203.0.113.7']);

    await keep(bad.checkLogin());
    await keep(bad.addToGroup(G, ['203.0.113.9']));
    await keep(good.addToGroup(G, ['2001:db8::1']));
    await keep(good.addToGroup(G, ['not-an-address']));
    // 501 from the firewall: a host name over its length limit.
    await keep(
      fw.client({ username: 'api', password: PASSWORD, log: logger, hostPrefix: `f2b_${'x'.repeat(56)}_` }).addToGroup(G, ['203.0.113.10']),
    );
    fw.em.faults.http5xxRate = 1;
    await keep(good.readGroup(G));
    fw.em.faults.http5xxRate = 0;
    fw.em.faults.resetRate = 1;
    await keep(good.listOwnedHosts());
    fw.em.faults.resetRate = 0;
    fw.em.faults.resetAfterCommitRate = 1;
    await keep(good.addToGroup(G, ['203.0.113.11']));
    fw.em.faults.resetAfterCommitRate = 0;
    const pinned = buildDispatcher({ fingerprint256: '00'.repeat(32) }, logger);
    await keep(fw.client({ username: 'api', password: PASSWORD, log: logger, dispatcher: pinned }).checkLogin());
    await pinned.destroy();
    await good.removeFromGroup(G, ['203.0.113.7', '203.0.113.11']);
    // Last: a held request blocks the emulator's one-at-a-time queue until teardown.
    fw.em.faults.hangMs = 60_000;
    await keep(fw.client({ username: 'api', password: PASSWORD, log: logger, requestTimeoutMs: 200 }).checkLogin());

    // The run did what it claims: failures of each kind, debug request logs, dry-run lines.
    expect(errors.map((e) => (e as { code?: string }).code)).toEqual([
      'XG_AUTH',
      'XG_AUTH',
      'XG_FAMILY_MISMATCH',
      'XG_BAD_ADDRESS',
      'XG_VALIDATION',
      'XG_HTTP_STATUS',
      'XG_TRANSPORT',
      'XG_TRANSPORT',
      'XG_TLS_PIN_MISMATCH',
      'XG_TIMEOUT',
    ]);
    expect(printed.length).toBe(3);
    const log = out.text();
    expect(log).toContain('<Password>********</Password>');
    expect(log.split('\n').filter((l) => /DEBUG|"level":20/.test(l)).length).toBeGreaterThan(10);
    expect(fw.em.stats.authFailures).toBe(2);

    const haystack = [...errors.flatMap(renderings), log, ...printed].join('\n');
    for (const form of forms(PASSWORD)) expect(haystack).not.toContain(form);
    // The search itself can find it: the same haystack plus one leaked line does contain it.
    expect(`${haystack}\n${xmlEscape(PASSWORD)}`).toContain(forms(PASSWORD)[1]);
  });
});
