// What an admin reads in the journal: one line per event that matters, with its fields, and never
// the password (not even at debug level, where the XML bodies are logged).
import { afterEach, describe, expect, it } from 'vitest';
import { MASK, xmlEscaped as xmlEscape } from '../../src/util/mask.js';
import { f2bLine, PASSWORD, startRig, waitFor, type Rig } from './helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function rig(o: Parameters<typeof startRig>[0]): Promise<Rig> {
  // The journal lines checked here are hosts mode's (per-address batches).
  const r = await startRig({ objects: 'hosts', ...o });
  cleanups.push(() => r.close());
  return r;
}

const line = (r: Rig, re: RegExp) => waitFor(`a log line ${re}`, () => r.sink.lines.find((l) => re.test(l)));

/** Every form the password can take on the way to a log line. */
function passwordForms(): string[] {
  const json = (s: string) => JSON.stringify(s).slice(1, -1);
  return [PASSWORD, xmlEscape(PASSWORD), encodeURIComponent(PASSWORD), json(PASSWORD), json(xmlEscape(PASSWORD))];
}

function expectNoPassword(text: string): void {
  for (const form of passwordForms()) expect(text.split(form).length - 1, `password form ${form}`).toBe(0);
  // Fragments long enough to be the password, too (a masker that cut it in half would leave these).
  expect(text).not.toContain('Pw&');
  expect(text).not.toContain("q'%+ 1é");
}

describe('journal text log (debug level)', () => {
  it('ban, unban, batch size and duration, retry and recovery: one line each, with fields; XML bodies masked', async () => {
    const r = await rig({ level: 'debug', journal: true });
    await r.append(f2bLine('Ban', 'sshd', '198.51.100.1') + f2bLine('Ban', 'sshd', '198.51.100.2'));
    const banned = await line(r, /^<6>INFO ban applied /);
    expect(banned).toMatch(
      /^<6>INFO ban applied firewall=main group=f2b_blockings family=IPv4 count=2 addresses=\["198\.51\.100\.1","198\.51\.100\.2"\] durationMs=\d+$/,
    );

    await r.append(f2bLine('Unban', 'sshd', '198.51.100.1'));
    expect(await line(r, /^<6>INFO unban applied /)).toMatch(
      /^<6>INFO unban applied firewall=main group=f2b_blockings family=IPv4 count=1 addresses=\["198\.51\.100\.1"\] durationMs=\d+$/,
    );

    // Firewall unreachable: one warning with the attempt and the delay, then recovery.
    await r.runtime.sidecar.idle();
    r.emu.faults.down = true;
    await r.append(f2bLine('Ban', 'sshd', '198.51.100.3'));
    const retry = await line(r, /^<4>WARN firewall write failed, retrying /);
    expect(retry).toMatch(/ firewall=main code=XG_TRANSPORT err="[^"]*cannot reach the firewall[^"]*" attempt=1 retryInMs=100$/);
    r.emu.faults.down = false;
    expect(await line(r, /^<6>INFO firewall in sync again /)).toMatch(/firewall=main afterFailures=\d+$/);
    await line(r, /^<6>INFO ban applied .*"198\.51\.100\.3"/);

    // Debug: the request bodies, password masked.
    const requests = r.sink.lines.filter((l) => l.startsWith('<7>DEBUG XG request '));
    expect(requests.length).toBeGreaterThan(3);
    expect(requests.every((l) => l.includes(`<Password>${MASK}</Password>`))).toBe(true);
    expect(r.sink.lines.some((l) => l.startsWith('<7>DEBUG XG response '))).toBe(true);

    await r.stop();
    expect(r.sink.lines.at(-1)).toMatch(/^<7>DEBUG flush reason=stop/);
    // One line per event: two batches written, one removal, one warning for the whole outage.
    const count = (re: RegExp) => r.sink.lines.filter((l) => re.test(l)).length;
    expect(count(/^<6>INFO ban applied /)).toBe(2);
    expect(count(/^<6>INFO unban applied /)).toBe(1);
    expect(count(/^<4>WARN firewall write failed, retrying /)).toBe(1);
    // Journal mode: every line carries its priority, none a time stamp of its own.
    expect(r.sink.lines.every((l) => /^<[0-7]>(DEBUG|INFO|WARN|ERROR) /.test(l))).toBe(true);
    expectNoPassword(r.sink.text);
  });

  it('a refusal by the firewall is an error line with the XG status code and text', async () => {
    // Names longer than 14 characters are refused: f2b_198.51.100.7 is 16.
    const r = await rig({ level: 'debug', journal: true, emulator: { quirks: { maxNameLength: 14 } } });
    await r.append(f2bLine('Ban', 'sshd', '198.51.100.7'));
    // One address refused for good: set aside (issue 11 item 3), said once, with the XG status.
    const err = await line(r, /^<3>ERROR firewall refused to block this address for good/);
    expect(err).toMatch(
      / firewall=main group=f2b_blockings op=add address=198\.51\.100\.7 code=XG_VALIDATION xgStatus=501 xgText="Configuration parameters validation failed\." err=".*XG 501.*on add IPHost f2b_198\.51\.100\.7.*"$/,
    );
    await r.stop();
    expectNoPassword(r.sink.text);
  });
});

describe('JSON log', () => {
  it('NDJSON: one object per line with the same fields, no password', async () => {
    const r = await rig({ level: 'debug', format: 'json' });
    await r.append(f2bLine('Ban', 'sshd', '2001:db8::5'));
    await line(r, /"msg":"ban applied"/);
    await r.stop();
    const objs = r.sink.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const applied = objs.find((o) => o.msg === 'ban applied');
    expect(applied).toMatchObject({
      level: 30,
      firewall: 'main',
      group: 'f2b_blockings6',
      family: 'IPv6',
      count: 1,
      addresses: ['2001:db8::5'],
    });
    expect(typeof applied?.durationMs).toBe('number');
    expect(typeof applied?.time).toBe('string');
    expect(objs.some((o) => typeof o.msg === 'string' && o.msg.startsWith('XG request ') && o.msg.includes(MASK))).toBe(true);
    expectNoPassword(r.sink.text);
  });

  it('control: the password check finds the password when it is there', () => {
    expect(() => expectNoPassword(`x ${JSON.stringify({ p: PASSWORD })}`)).toThrow();
    expect(() => expectNoPassword(`<Password>${xmlEscape(PASSWORD)}</Password>`)).toThrow();
  });
});
