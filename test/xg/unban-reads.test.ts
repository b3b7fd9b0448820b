/**
 * Issue 12 item 5, hosts mode: unbans never read the whole group. Counted by the emulator
 * (`stats.objectsRead`: entity rows returned by Gets).
 */
import { describe, expect, it } from 'vitest';
import type { GroupRef } from '../../src/xg/port.js';
import { blockedNow, emulatorPerTest } from './emulator-fixture.js';

const G: GroupRef = { name: 'f2b_blockings', family: 'IPv4' };
const OTHER: GroupRef = { name: 'f2b_other', family: 'IPv4' };
const v4 = (n: number) => `10.9.${(n >> 8) & 255}.${n & 255}`;
const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => v4(from + i));

const start = emulatorPerTest();

describe('hosts mode: objects read back for unbans', () => {
  it('N unbans in batches read O(N) objects, not N × group; hosts other groups hold are kept', async () => {
    const fx = await start();
    const port = fx.client({ batchSize: 50 });
    await port.ensureGroup(G);
    await port.ensureGroup(OTHER);
    const standing = range(0, 1000);
    await port.addToGroup(G, standing);
    const unbans = standing.slice(0, 300);
    await port.addToGroup(OTHER, unbans.slice(0, 10));
    fx.em.model.referenceHost((await port.listOwnedHosts()).find((h) => h.address === unbans[20])?.name ?? '?');
    fx.em.stats.objectsRead = 0;

    for (let i = 0; i < unbans.length; i += 50) await port.removeFromGroup(G, unbans.slice(i, i + 50));

    // Each batch reads its own hosts back (their other groups must be resent whole), nothing more.
    expect(fx.em.stats.objectsRead).toBeGreaterThanOrEqual(unbans.length);
    expect(fx.em.stats.objectsRead).toBeLessThanOrEqual(2 * unbans.length);
    expect(blockedNow(fx.em, G.name)).toEqual(standing.slice(300).sort());
    expect(blockedNow(fx.em, OTHER.name)).toEqual(unbans.slice(0, 10).sort());
    // Deleted only when in no other group; the one a rule still uses is left in place, out of the group.
    expect(fx.em.model.hostCount).toBe(700 + 10 + 1);
  });
});
