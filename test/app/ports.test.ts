import { describe, expect, it } from 'vitest';
import { openPorts } from '../../src/app/ports.js';
import { Shutdown } from '../../src/app/shutdown.js';
import type { Config } from '../../src/config/index.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import type { FirewallPort } from '../../src/xg/port.js';

function fakePort(calls: string[]): FirewallPort {
  const op = (name: string) => async () => void calls.push(name);
  return {
    checkLogin: op('checkLogin'),
    ensureGroup: op('ensureGroup'),
    readGroup: async () => ({}) as never,
    addToGroup: op('addToGroup'),
    removeFromGroup: op('removeFromGroup'),
    listOwnedHosts: async () => [],
    readLists: async () => [],
    writeLists: op('writeLists'),
    readRules: async () => [],
    close: op('close'),
  };
}

describe('openPorts with ports handed in', () => {
  it('uses them, measured per firewall, builds no client and leaves closing them to their owner', async () => {
    const calls: string[] = [];
    const metrics = createMetrics({ version: 't' });
    const shutdown = new Shutdown({ warn: () => undefined });
    const log = {} as never; // building clients would need it
    const ports = await openPorts(
      {
        config: { firewalls: { main: {} } } as unknown as Config,
        log,
        env: {},
        onSecret: () => undefined,
        ports: new Map([['main', fakePort(calls)]]),
      },
      metrics,
      shutdown,
    );
    expect([...ports.keys()]).toEqual(['main']);
    await ports.get('main')?.addToGroup({ name: 'g', family: 'ipv4' } as never, ['192.0.2.1']);
    expect(calls).toEqual(['addToGroup']);
    expect(await metrics.render()).toMatch(/f2b_sophosxg_\w+\{[^}]*firewall="main"[^}]*op="addToGroup"/);
    await shutdown.run();
    expect(calls).toEqual(['addToGroup']);
  });
});
