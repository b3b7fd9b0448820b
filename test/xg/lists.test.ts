/**
 * Lists mode in the API client (src/xg/lists.ts), counted on the HTTPS emulator: several lists per
 * request, blocks of one kind adjacent, and a removal never in the same request as the addition
 * it depends on. The behaviour itself is the contract's (list-contract.ts).
 */
import { describe, expect, it } from 'vitest';
import { listNamer } from '../../src/core/list-name.js';
import type { GroupRef, ListWrite } from '../../src/xg/port.js';
import { blockedNow, emulatorPerTest } from './emulator-fixture.js';
import { observeRequests, type SentRequest } from './helpers.js';

const G: GroupRef = { name: 'f2b_blockings', family: 'IPv4' };
const n = listNamer('f2b_', G.name);
const v4 = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => v4(from + i));
/** The blocks of a request in document order, e.g. `add:50`, `update:2+remove:1`. */
const shape = (r: SentRequest) =>
  [...r.reqxml.matchAll(/<(?:Set operation="(\w+)"|(Remove)|(Get))>(.*?)<\/(?:Set|Remove|Get)>/g)]
    .map((m) => `${m[1] ?? (m[2] ? 'remove' : 'get')}:${(m[4]?.match(/<IPHost[\s>]/g) ?? []).length}`)
    .join('+');

const start = emulatorPerTest();

async function setup(batchSize = 50) {
  const fx = await start();
  const seen: SentRequest[] = [];
  const port = fx.client({ batchSize, dispatcher: observeRequests(fx.dispatcher, (r) => seen.push(r)) });
  await port.ensureGroup(G);
  seen.length = 0;
  return { fx, port, seen };
}

describe('lists mode over the XML API', () => {
  it('100,000 addresses: 100 lists in requests of at most 25,000 addresses; read back in one Get of 100 objects', async () => {
    const { fx, port, seen } = await setup();
    await fx.port.addToGroup(G, range(500_000, 20)); // per-address hosts beside the lists: not read by readLists
    const steps: ListWrite[] = Array.from({ length: 100 }, (_, i) => ({
      op: 'create',
      name: n.name(i + 1),
      addresses: range(i * 1000, 1000),
    }));
    seen.length = 0;
    await port.writeLists(G, steps);
    expect(seen.map(shape)).toEqual(['add:25', 'add:25', 'add:25', 'add:25']);
    fx.em.stats.objectsRead = 0;
    const lists = await port.readLists(G);
    expect(fx.em.stats.objectsRead).toBe(100);
    expect(lists.reduce((s, l) => s + l.addresses.length, 0)).toBe(100_000);
    expect(blockedNow(fx.em, G.name)).toHaveLength(100_020);
  }, 60_000);

  it('batchSize is lists per request', async () => {
    const { port, seen } = await setup(2);
    await port.writeLists(
      G,
      [1, 2, 3, 4, 5].map((s) => ({ op: 'create', name: n.name(s), addresses: range(s * 100, 3) })),
    );
    expect(seen.map(shape)).toEqual(['add:2', 'add:2', 'add:1']);
  });

  it('unbans across many lists are one request; a move waits for the list that gains it', async () => {
    const { port, seen } = await setup();
    await port.writeLists(
      G,
      [1, 2, 3].map((s) => ({ op: 'create', name: n.name(s), addresses: range(s * 100, 10) })),
    );
    await port.readLists(G);
    seen.length = 0;
    // Unbans only: every update drops addresses nothing else gains.
    await port.writeLists(
      G,
      [1, 2, 3].map((s) => ({ op: 'update', name: n.name(s), addresses: range(s * 100, 5) })),
    );
    expect(seen.map(shape)).toEqual(['update:3']);
    seen.length = 0;
    // Compaction: list 1 takes list 2's addresses, list 2 leaves and goes, list 3 shrinks.
    await port.writeLists(G, [
      { op: 'update', name: n.name(1), addresses: [...range(100, 5), ...range(200, 5)] },
      { op: 'leave', name: n.name(2), addresses: range(200, 5) },
      { op: 'delete', name: n.name(2) },
      { op: 'update', name: n.name(3), addresses: range(300, 4) },
    ]);
    expect(seen.map(shape)).toEqual(['update:1', 'update:1+remove:1', 'update:1']);
    expect((await port.readLists(G)).map((l) => [l.name, l.addresses.length])).toEqual([
      [n.name(1), 10],
      [n.name(3), 4],
    ]);
  });

  it('an update of a list it has not read is kept apart from earlier additions (its old content is unknown)', async () => {
    const { fx, seen } = await setup();
    await fx.port.writeLists(
      G,
      [1, 2].map((s) => ({ op: 'create', name: n.name(s), addresses: range(s * 100, 3) })),
    );
    const fresh = fx.client({ dispatcher: observeRequests(fx.dispatcher, (r) => seen.push(r)) });
    seen.length = 0;
    await fresh.writeLists(G, [
      { op: 'update', name: n.name(1), addresses: [...range(100, 3), v4(200)] },
      { op: 'update', name: n.name(2), addresses: range(201, 2) },
    ]);
    expect(seen.map(shape)).toEqual(['update:1', 'update:1']);
  });

  it('keeps the other groups an admin put a list into when rewriting it, and leaves only this group', async () => {
    const { fx, port } = await setup();
    await fx.seedGroup('admin_group', 'IPv4');
    await port.writeLists(G, [{ op: 'create', name: n.name(1), addresses: range(0, 3) }]);
    await fx.seedList({ name: n.name(1), entries: range(0, 3), family: 'IPv4', groups: [G.name, 'admin_group'] });
    await port.readLists(G);
    await port.writeLists(G, [{ op: 'update', name: n.name(1), addresses: range(0, 2) }]);
    expect(fx.em.model.hostByName(n.name(1))?.groups.sort()).toEqual(['admin_group', G.name].sort());
    await port.writeLists(G, [
      { op: 'leave', name: n.name(1), addresses: range(0, 2) },
      { op: 'delete', name: n.name(1) },
    ]);
    // Still used by the admin's group: out of ours, left in place, not an error.
    expect(fx.em.model.hostByName(n.name(1))?.groups).toEqual(['admin_group']);
    expect(blockedNow(fx.em, G.name)).toEqual([]);
  });
});
