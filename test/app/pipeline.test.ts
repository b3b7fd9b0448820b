import { asyncScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { firewallAddresses, floorOf, sidecarOptions } from '../../src/app/pipeline.js';
import { parseConfig } from '../../src/config/index.js';

const config = parseConfig(
  [
    'stateDir: /tmp/x',
    'firewalls: { main: { url: "https://127.0.0.1:4444", username: a, passwordEnv: P } }',
    'groups: [ { name: g4, ipv6Name: g6, firewall: main, jails: ["sshd"] } ]',
    'neverBlock: ["203.0.113.0/24"]',
    'batch: { windowMs: 250, maxSize: 7 }',
    'reconcile: { resyncIntervalMs: 60000 }',
  ].join('\n'),
  '(test)',
);

function wire(follow: boolean) {
  const observed: [string, string, number][] = [];
  const sink = { save: async () => undefined };
  const o = sidecarOptions({
    config,
    ports: new Map(),
    initial: undefined,
    sink,
    metrics: { banToBlock: (fw, g, s) => void observed.push([fw, g, s]) },
    scheduler: asyncScheduler,
    log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
    follow,
  });
  return { o, observed, sink };
}

describe('sidecarOptions', () => {
  it('takes batching, retry, suspension, resync and the never-block list from the config', () => {
    const { o, sink } = wire(true);
    expect(o.groups).toBe(config.groups);
    expect(o.batch).toEqual({ windowMs: 250, maxSize: 7, leading: true });
    expect(o.retry).toBe(config.retry);
    expect(o.suspend).toBe(config.suspend);
    expect(o.resyncIntervalMs).toBe(60_000);
    expect(o.neverBlock('203.0.113.9')).toMatchObject({ allow: false, reason: 'never-block' });
    expect(o.neverBlock('198.51.100.9')).toEqual({ allow: true });
    expect(o.maxLineAgeMs).toBe(86_400_000);
    expect(o.jailMatches?.(['ssh*'], 'sshd')).toBe(true);
    expect(o.sink).toBe(sink);
  });

  it('holds removals only while the log is followed (replay feeds the complete state itself)', () => {
    expect(wire(true).o.holdRemovals).toBe(true);
    expect(wire(false).o.holdRemovals).toBe(false);
    // replay backfills an old log on purpose: no line of it is judged too old.
    expect(wire(false).o.maxLineAgeMs).toBe(0);
  });

  it('observes each live ban of an acknowledged add in the ban-to-block histogram', () => {
    const { o, observed } = wire(true);
    o.onApplied?.({ firewall: 'main', group: 'g4', banToBlockSeconds: [0.5, 2] } as never);
    o.onApplied?.({ firewall: 'main', group: 'g6', banToBlockSeconds: [] } as never);
    expect(observed).toEqual([
      ['main', 'g4', 0.5],
      ['main', 'g4', 2],
    ]);
  });

  it("refuses by the floor: the firewall's own address, embedded forms, and networks wider than guards.minPrefix", () => {
    const c = parseConfig(
      [
        'stateDir: /tmp/x',
        'firewalls: { main: { url: "https://192.0.2.1:4444", username: a, passwordEnv: P } }',
        'groups: [ { name: g4, firewall: main, jails: ["sshd"] } ]',
        'neverBlock: ["10.0.0.0/8"]',
        'guards: { minPrefix: { ipv4: 24, ipv6: 48 } }',
      ].join('\n'),
      '(test)',
    );
    const floor = floorOf(c, ['192.0.2.1']);
    expect(floor('192.0.2.1')).toMatchObject({ allow: false, reason: 'never-block' });
    expect(floor('64:ff9b::a01:203')).toMatchObject({ allow: false, reason: 'never-block-embedded' });
    expect(floor('198.51.100.0/23')).toMatchObject({ allow: false, reason: 'too-wide' });
    expect(floor('198.51.100.0/24')).toEqual({ allow: true });
    expect(floor('2001:db8::/47')).toMatchObject({ allow: false, reason: 'too-wide' });
    expect(floor('255.255.255.255')).toMatchObject({ allow: false, reason: 'broadcast' });
  });

  it('counts each refusal by reason, and never-block skips per group', () => {
    const refused: string[] = [];
    const skipped: string[] = [];
    const o = sidecarOptions({
      config,
      ports: new Map(),
      initial: undefined,
      sink: { save: async () => undefined },
      metrics: { banToBlock: () => undefined, targetRefused: (r) => void refused.push(r), neverblockSkipped: (g) => void skipped.push(g) },
      scheduler: asyncScheduler,
      log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
      follow: true,
    });
    o.onNote?.({ kind: 'never-block', jail: 'sshd', address: '203.0.113.9', reason: 'never-block', detail: '', groups: ['main/g4'] });
    o.onNote?.({ kind: 'refused', jail: 'sshd', address: '0.0.0.0', reason: 'unspecified', detail: '', groups: ['main/g4'] });
    o.onNote?.({ kind: 'unrouted', jail: 'x', address: '192.0.2.1' });
    expect(refused).toEqual(['never-block', 'unspecified']);
    expect(skipped).toEqual(['main/g4']);
  });
});

describe('firewallAddresses', () => {
  const cfg = (urls: string[]) =>
    parseConfig(
      [
        'stateDir: /tmp/x',
        'firewalls:',
        ...urls.map((u, i) => `  fw${i}: { url: "${u}", username: a, passwordEnv: P }`),
        'groups: [ { name: g4, firewall: fw0, jails: ["sshd"] } ]',
      ].join('\n'),
      '(test)',
    );

  it('takes IP literals as they are and resolves host names once; a failed lookup is a warning', async () => {
    const asked: string[] = [];
    const warned: object[] = [];
    const resolve = async (host: string) => {
      asked.push(host);
      if (host === 'xg.example.net') return ['198.51.100.4', '2001:db8::4'];
      throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
    };
    const got = await firewallAddresses(
      cfg(['https://192.0.2.1:4444', 'https://[2001:db8::1]:4444', 'https://xg.example.net:4444', 'https://gone.example.net']),
      { warn: (o) => void warned.push(o) },
      resolve,
    );
    expect(got).toEqual(['192.0.2.1', '2001:db8::1', '198.51.100.4', '2001:db8::4']);
    expect(asked).toEqual(['xg.example.net', 'gone.example.net']);
    expect(warned).toEqual([expect.objectContaining({ firewall: 'fw3' })]);
  });
});
