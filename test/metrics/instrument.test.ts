import { afterEach, describe, expect, it } from 'vitest';
import { instrumentPort } from '../../src/metrics/instrument.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { XgTransportError } from '../../src/xg/errors.js';
import { MemoryFirewall } from '../../src/xg/memory.js';
import type { GroupRef } from '../../src/xg/port.js';
import { parseExposition, valueOf } from './exposition.js';
import { startFirewall, type FirewallFixture } from '../xg/emulator-fixture.js';

const P = 'f2b_sophosxg_';
const group: GroupRef = { name: 'f2b-ssh', family: 'IPv4' };

/** A clock that advances a fixed step on every reading: each call "takes" one step. */
function steppingClock(stepMs: number): () => number {
  let t = 0;
  return () => (t += stepMs);
}

describe('instrumentPort', () => {
  it('passes calls through and records each one with its duration and outcome', async () => {
    const fw = new MemoryFirewall();
    const m = createMetrics();
    const port = instrumentPort(fw.port('f2b_'), 'edge', m, steppingClock(2_500));
    await port.checkLogin();
    await port.ensureGroup(group);
    await port.addToGroup(group, ['192.0.2.1', '192.0.2.2']);
    const state = await port.readGroup(group);
    expect([...state.owned].sort()).toEqual(['192.0.2.1', '192.0.2.2']);
    expect(fw.memberAddresses('f2b-ssh')).toEqual(['192.0.2.1', '192.0.2.2']);
    await port.removeFromGroup(group, ['192.0.2.1']);
    expect((await port.listOwnedHosts()).map((h) => h.address)).toEqual(['192.0.2.2']);

    fw.failWith = new XgTransportError('connection reset');
    await expect(port.addToGroup(group, ['192.0.2.3'])).rejects.toBe(fw.failWith);
    await port.close();

    const exp = parseExposition(await m.render());
    for (const op of ['checkLogin', 'ensureGroup', 'readGroup', 'removeFromGroup', 'listOwnedHosts']) {
      expect(valueOf(exp, `${P}firewall_requests_total`, { firewall: 'edge', op, outcome: 'ok' }), op).toBe(1);
      expect(valueOf(exp, `${P}firewall_request_duration_seconds_sum`, { firewall: 'edge', op }), op).toBe(2.5);
    }
    const add = { firewall: 'edge', op: 'addToGroup' };
    expect(valueOf(exp, `${P}firewall_requests_total`, { ...add, outcome: 'ok' })).toBe(1);
    expect(valueOf(exp, `${P}firewall_requests_total`, { ...add, outcome: 'transport' })).toBe(1);
    expect(valueOf(exp, `${P}firewall_request_duration_seconds_count`, add)).toBe(2);
    expect(valueOf(exp, `${P}firewall_request_duration_seconds_bucket`, { ...add, le: '2' })).toBe(0);
    expect(valueOf(exp, `${P}firewall_request_duration_seconds_bucket`, { ...add, le: '3' })).toBe(2);
  });
});

describe('instrumentPort over the XML API client', () => {
  let f: FirewallFixture | undefined;
  afterEach(async () => {
    await f?.teardown();
    f = undefined;
  });

  it("records the real client's operations and its typed failures (what the removed onRequest hook reported)", async () => {
    f = await startFirewall();
    const m = createMetrics();
    const good = instrumentPort(f.client(), 'edge', m);
    const bad = instrumentPort(f.client({ password: 'wrong' }), 'edge', m);
    await good.ensureGroup(group);
    await good.addToGroup(group, ['192.0.2.1']);
    await expect(bad.addToGroup(group, ['192.0.2.2'])).rejects.toMatchObject({ code: 'XG_AUTH' });
    f.em.faults.http5xxRate = 1;
    await expect(good.readGroup(group)).rejects.toMatchObject({ code: 'XG_HTTP_STATUS' });

    const exp = parseExposition(await m.render());
    const count = (op: string, outcome: string) => valueOf(exp, `${P}firewall_requests_total`, { firewall: 'edge', op, outcome });
    expect(count('ensureGroup', 'ok')).toBe(1);
    expect(count('addToGroup', 'ok')).toBe(1);
    expect(count('addToGroup', 'auth')).toBe(1);
    expect(count('readGroup', 'transport')).toBe(1);
  });
});
