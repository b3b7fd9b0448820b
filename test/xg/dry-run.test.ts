import { describe, expect, it } from 'vitest';
import { listNamer } from '../../src/core/list-name.js';
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

  it('lists mode: prints each step as it would send it, writes nothing, and a later readLists sees it', async () => {
    const { fw, dry, out } = setup();
    fw.addGroup(G.name, G.family);
    const n = listNamer('f2b_', G.name);
    fw.addListHost(n.name(1), ['198.51.100.1'], 'IPv4', [G.name]);
    await dry.writeLists(G, [
      { op: 'create', name: n.name(2), addresses: ['203.0.113.7', '203.0.113.9'] },
      { op: 'leave', name: n.name(1), addresses: ['198.51.100.1'] },
      { op: 'delete', name: n.name(1) },
    ]);
    expect(fw.writes).toBe(0);
    expect(fw.blockedBy(G.name)).toEqual(['198.51.100.1']);
    expect(out).toEqual([
      `DRY-RUN list create addresses(2)=203.0.113.7,203.0.113.9 group=${G.name} family=IPv4 name=${n.name(2)}`,
      `DRY-RUN list leave group=${G.name} family=IPv4 name=${n.name(1)}`,
      `DRY-RUN list delete group=${G.name} name=${n.name(1)}`,
    ]);
    expect(await dry.readLists(G)).toEqual([{ name: n.name(2), shard: 2, addresses: ['203.0.113.7', '203.0.113.9'], member: true }]);
    expect(await fw.port('f2b_').readLists(G)).toEqual([{ name: n.name(1), shard: 1, addresses: ['198.51.100.1'], member: true }]);
    await expect(dry.writeLists(G, [{ op: 'delete', name: 'admin_list' }])).rejects.toThrow(RangeError);
  });
});
