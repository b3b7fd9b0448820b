import { asyncScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { sidecarOptions } from '../../src/app/pipeline.js';
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
    expect(o.neverBlock('203.0.113.9')).toBe(true);
    expect(o.neverBlock('198.51.100.9')).toBe(false);
    expect(o.jailMatches?.(['ssh*'], 'sshd')).toBe(true);
    expect(o.sink).toBe(sink);
  });

  it('holds removals only while the log is followed (replay feeds the complete state itself)', () => {
    expect(wire(true).o.holdRemovals).toBe(true);
    expect(wire(false).o.holdRemovals).toBe(false);
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
});
