// A fault-injecting wrapper around a port (issue 11 items 2 and 3): every request takes `latencyMs`
// of virtual time; a seeded share fails before the write (nothing applied) and another share
// after it (applied, answer lost: the caller cannot tell). Reads can only fail before.
import { firstValueFrom, timer, type SchedulerLike } from 'rxjs';
import type { FirewallPort } from '../../src/xg/port.js';
import { XgTimeoutError, XgTransportError } from '../../src/xg/errors.js';

/** The emulator's mulberry32: a seeded PRNG, so a fault schedule replays from its printed seed. */
import { seededRandom as seeded } from '../../src/emulator/profile.js';
export { seeded };

export interface FaultOptions {
  /** Share of requests failing before anything is applied. */
  before: number;
  /** Share of writes applied whose answer is lost. */
  after: number;
  latencyMs: number;
  seed: number;
  /** Resolved per request (the harness builds its clock after the ports). */
  scheduler: () => SchedulerLike;
}

export interface FaultyPort extends FirewallPort {
  readonly stats: { requests: number; failedBefore: number; lostAfter: number };
}

export function faulty(port: FirewallPort, o: FaultOptions): FaultyPort {
  const random = seeded(o.seed);
  const stats = { requests: 0, failedBefore: 0, lostAfter: 0 };
  const call = async <T>(write: boolean, op: () => Promise<T>): Promise<T> => {
    stats.requests++;
    await firstValueFrom(timer(o.latencyMs, o.scheduler()));
    const r = random();
    if (r < o.before) {
      stats.failedBefore++;
      throw new XgTransportError('injected: connection reset before the request was read');
    }
    const result = await op();
    if (write && r < o.before + o.after) {
      stats.lostAfter++;
      throw new XgTimeoutError('injected: answer lost after the write was committed');
    }
    return result;
  };
  return {
    stats,
    checkLogin: () => call(false, () => port.checkLogin()),
    ensureGroup: (g) => call(true, () => port.ensureGroup(g)),
    readGroup: (g) => call(false, () => port.readGroup(g)),
    addToGroup: (g, a) => call(true, () => port.addToGroup(g, a)),
    removeFromGroup: (g, a) => call(true, () => port.removeFromGroup(g, a)),
    listOwnedHosts: () => call(false, () => port.listOwnedHosts()),
    readRules: () => call(false, () => port.readRules()),
    readLists: (g) => call(false, () => port.readLists(g)),
    writeLists: (g, s) => call(true, () => port.writeLists(g, s)),
    close: () => port.close(),
  };
}
