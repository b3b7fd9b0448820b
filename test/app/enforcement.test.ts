/** The running sidecar's enforcement watch, on virtual time against the in-memory fake. */
import { VirtualAction, VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { EnforcementWatch, watchEnforcement } from '../../src/app/enforcement.js';
import { Shutdown } from '../../src/app/shutdown.js';
import type { StatusSnapshot } from '../../src/metrics/status.js';
import { MemoryFirewall } from '../../src/xg/memory.js';

const config = {
  groups: [{ firewall: 'main', name: 'f2b_ssh', ipv6Name: 'f2b_ssh6', jails: ['sshd'] }],
  reconcile: { resyncIntervalMs: 60_000 },
};

function recorder() {
  const lines: { level: string; msg: string }[] = [];
  return {
    lines,
    log: {
      info: (_f: object, msg?: string) => void lines.push({ level: 'info', msg: msg ?? '' }),
      warn: (_f: object, msg?: string) => void lines.push({ level: 'warn', msg: msg ?? '' }),
    } as never,
  };
}

const snap = (): StatusSnapshot => ({
  groups: ['f2b_ssh', 'f2b_ssh6'].map((group) => ({
    firewall: 'main',
    group,
    family: 'IPv4' as const,
    desired: 0,
    applied: 0,
    pendingAdds: 0,
    pendingRemoves: 0,
    suspended: 0,
  })),
  firewalls: [],
  log: { path: '/x', readable: true },
});

const flush = () => new Promise((r) => setImmediate(r));

describe('enforcement watch', () => {
  it('checks at start and every resync interval; logs changes only; fills the snapshot', async () => {
    const fw = new MemoryFirewall();
    fw.rules.push({ name: 'Drop ssh', enabled: true, action: 'Drop', sourceNetworks: ['f2b_ssh'], destinationNetworks: [] });
    // Frames up to maxFrames run on flush(): the check at start first, the resync's later.
    const scheduler = new VirtualTimeScheduler(VirtualAction, 0);
    const { lines, log } = recorder();
    const shutdown = new Shutdown(log);
    const watch = watchEnforcement({ config, ports: new Map([['main', fw.port('f2b_')]]), scheduler, log }, shutdown);
    // Unknown before the first read: nothing in the snapshot.
    expect(watch.apply(snap()).groups.map((g) => g.enforced)).toEqual([undefined, undefined]);
    scheduler.flush();
    await flush();
    expect(watch.apply(snap()).groups.map((g) => [g.enforced, g.enforcedBy])).toEqual([
      [true, ['Drop ssh']],
      [false, []],
    ]);
    expect(lines.map((l) => l.level)).toEqual(['info', 'warn']);
    expect(lines[1]?.msg).toMatch(/f2b_ssh6 on main: NOT ENFORCED.*have no effect/);

    // Same verdicts: no new line.
    await watch.check();
    expect(lines).toHaveLength(2);
    // The rule is disabled: nothing until the resync interval has passed, then one warn.
    (fw.rules[0] as { enabled: boolean }).enabled = false;
    scheduler.maxFrames = 59_999;
    scheduler.flush();
    await flush();
    expect(lines).toHaveLength(2);
    scheduler.maxFrames = 60_000;
    scheduler.flush();
    await flush();
    expect(lines.map((l) => l.level)).toEqual(['info', 'warn', 'warn']);
    expect(watch.apply(snap()).groups[0]?.enforced).toBe(false);
    await shutdown.run();
  });

  it('rules that cannot be read: one warning, verdicts stay as they were', async () => {
    const fw = new MemoryFirewall();
    const { lines, log } = recorder();
    const watch = new EnforcementWatch({ config, ports: new Map([['main', fw.port('f2b_')]]), scheduler: new VirtualTimeScheduler(), log });
    fw.failWith = Object.assign(new Error('denied'), { code: 'XG_ACCESS' });
    await watch.check();
    await watch.check();
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      ['warn', 'cannot read the firewall rules: whether the groups are enforced is unknown'],
    ]);
    expect(watch.apply(snap()).groups.map((g) => g.enforced)).toEqual([undefined, undefined]);
  });
});
