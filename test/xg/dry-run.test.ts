import { describe, expect, it } from 'vitest';
import { DryRunPort } from '../../src/xg/dry-run.js';
import { MemoryFirewall } from '../../src/xg/memory.js';
import type { GroupRef } from '../../src/xg/port.js';

const G: GroupRef = { name: 'f2b_blockings', family: 'IPv4' };

function setup(): { fw: MemoryFirewall; dry: DryRunPort; out: string[] } {
  const fw = new MemoryFirewall();
  const out: string[] = [];
  const dry = new DryRunPort(fw.port('f2b_'), { print: (l) => out.push(l), hostPrefix: 'f2b_' });
  return { fw, dry, out };
}

describe('DryRunPort', () => {
  it('prints writes instead of performing them, and reads reflect them', async () => {
    const { fw, dry, out } = setup();
    await dry.ensureGroup(G);
    await dry.addToGroup(G, ['203.0.113.7', '203.0.113.9']);
    expect(fw.writes).toBe(0);
    expect(fw.groups.size).toBe(0);
    expect(out).toEqual([
      'DRY-RUN create group=f2b_blockings family=IPv4',
      'DRY-RUN add group=f2b_blockings family=IPv4 addresses=203.0.113.7,203.0.113.9',
    ]);
    expect(await dry.readGroup(G)).toEqual({ exists: true, owned: new Set(['203.0.113.7', '203.0.113.9']), foreign: 0 });
    expect((await dry.listOwnedHosts()).map((h) => [h.name, h.groups])).toEqual([
      ['f2b_203.0.113.7', [G.name]],
      ['f2b_203.0.113.9', [G.name]],
    ]);
  });

  it('converges: the same writes are printed once', async () => {
    const { dry, out } = setup();
    for (let i = 0; i < 3; i++) {
      await dry.ensureGroup(G);
      await dry.addToGroup(G, ['203.0.113.7']);
    }
    await dry.removeFromGroup(G, ['203.0.113.7']);
    await dry.removeFromGroup(G, ['203.0.113.7']);
    expect(out).toEqual([
      'DRY-RUN create group=f2b_blockings family=IPv4',
      'DRY-RUN add group=f2b_blockings family=IPv4 addresses=203.0.113.7',
      'DRY-RUN remove group=f2b_blockings family=IPv4 addresses=203.0.113.7',
    ]);
    expect((await dry.readGroup(G)).owned.size).toBe(0);
    expect(await dry.listOwnedHosts()).toEqual([]);
  });

  it('removes only what the real firewall holds, and leaves the firewall untouched', async () => {
    const { fw, dry, out } = setup();
    const real = fw.port('f2b_');
    await real.ensureGroup(G);
    await real.addToGroup(G, ['203.0.113.1', '203.0.113.2']);
    fw.addForeignHost('admin', '192.0.2.1', 'IPv4', [G.name]);
    const writes = fw.writes;
    await dry.ensureGroup(G);
    await dry.removeFromGroup(G, ['203.0.113.1', '198.51.100.1']);
    expect(out).toEqual(['DRY-RUN remove group=f2b_blockings family=IPv4 addresses=203.0.113.1']);
    expect(await dry.readGroup(G)).toEqual({ exists: true, owned: new Set(['203.0.113.2']), foreign: 1 });
    expect(fw.writes).toBe(writes);
    expect(fw.memberAddresses(G.name)).toEqual(['192.0.2.1', '203.0.113.1', '203.0.113.2']);
  });
});
