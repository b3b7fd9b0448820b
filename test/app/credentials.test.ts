import { describe, expect, it } from 'vitest';
import { ReloadingPort } from '../../src/app/credentials.js';
import type { FirewallPort, GroupRef } from '../../src/xg/port.js';

const G: GroupRef = { name: 'g', family: 'IPv4' };
const authError = () => Object.assign(new Error('Authentication Failure'), { code: 'XG_AUTH', retryable: false });

/** A port that accepts one password only, and records what each instance was asked. */
function world(good: string) {
  const built: { password: string; calls: number; closed: boolean }[] = [];
  const build = (password: string): FirewallPort => {
    const rec = { password, calls: 0, closed: false };
    built.push(rec);
    const guard = async () => {
      rec.calls++;
      if (password !== good) throw authError();
    };
    return {
      checkLogin: guard,
      ensureGroup: guard,
      readGroup: async () => (await guard(), { exists: true, owned: new Set(['192.0.2.1']), foreign: 0 }),
      addToGroup: guard,
      removeFromGroup: guard,
      listOwnedHosts: async () => (await guard(), []),
      readLists: async () => (await guard(), []),
      writeLists: guard,
      readRules: async () => (await guard(), []),
      close: async () => void (rec.closed = true),
    };
  };
  return { built, build };
}

describe('ReloadingPort', () => {
  it('on an auth failure re-reads the source and retries once with a changed password', async () => {
    const w = world('right');
    let source = 'wrong';
    const secrets: string[] = [];
    const infos: string[] = [];
    const port = new ReloadingPort({
      password: 'wrong',
      build: w.build,
      reread: async () => source,
      onSecret: (s) => secrets.push(s),
      log: { info: (m) => infos.push(m) },
    });
    await expect(port.readGroup(G)).rejects.toMatchObject({ code: 'XG_AUTH' });
    expect(w.built).toHaveLength(1);
    source = 'right';
    expect((await port.readGroup(G)).owned).toEqual(new Set(['192.0.2.1']));
    expect(w.built.map((b) => b.password)).toEqual(['wrong', 'right']);
    expect(w.built[0]?.closed).toBe(true);
    expect(secrets).toEqual(['right']);
    expect(infos.join('\n')).not.toContain('right');
    await port.addToGroup(G, ['192.0.2.2']);
    expect(w.built).toHaveLength(2);
  });

  it('keeps the original error when the source is unchanged or unreadable, and passes other errors through', async () => {
    const w = world('right');
    let reread: () => Promise<string> = async () => 'wrong';
    const port = new ReloadingPort({ password: 'wrong', build: w.build, reread: () => reread(), log: { info: () => undefined } });
    await expect(port.checkLogin()).rejects.toMatchObject({ code: 'XG_AUTH' });
    reread = async () => {
      throw new Error('ENOENT');
    };
    await expect(port.ensureGroup(G)).rejects.toMatchObject({ code: 'XG_AUTH' });
    expect(w.built).toHaveLength(1);

    const other = new ReloadingPort({
      password: 'x',
      build: () => ({
        ...w.build('right'),
        removeFromGroup: async () => Promise.reject(Object.assign(new Error('busy'), { code: 'XG_HTTP_STATUS' })),
      }),
      reread: async () => 'never read',
      log: { info: () => undefined },
    });
    await expect(other.removeFromGroup(G, ['192.0.2.1'])).rejects.toMatchObject({ code: 'XG_HTTP_STATUS' });
  });

  it('while refused, an unchanged password costs no login (lock-out) until loginRetryMs; a changed one is tried at once', async () => {
    const w = world('right');
    let source = 'wrong';
    let now = 0;
    const port = new ReloadingPort({
      password: 'wrong',
      build: w.build,
      reread: async () => source,
      log: { info: () => undefined },
      now: () => now,
      loginRetryMs: 300_000,
    });
    await expect(port.checkLogin()).rejects.toMatchObject({ code: 'XG_AUTH' });
    expect(w.built[0]!.calls).toBe(1);
    // The reconciler probes every few seconds: the source is read, the firewall is not asked.
    for (now = 5000; now < 300_000; now += 5000) await expect(port.ensureGroup(G)).rejects.toMatchObject({ code: 'XG_AUTH' });
    expect(w.built[0]!.calls).toBe(1);
    // Due again: one real login (the firewall side may have been fixed).
    now = 300_000;
    await expect(port.ensureGroup(G)).rejects.toMatchObject({ code: 'XG_AUTH' });
    expect(w.built[0]!.calls).toBe(2);
    // The password file is fixed: the next probe (seconds later) uses it.
    now += 5000;
    source = 'right';
    await port.ensureGroup(G);
    expect(w.built.map((b) => [b.password, b.calls])).toEqual([
      ['wrong', 2],
      ['right', 1],
    ]);
    // Accepted: no more re-reads gate the calls.
    source = 'something else';
    await port.addToGroup(G, ['192.0.2.9']);
    expect(w.built).toHaveLength(2);
  });
});
