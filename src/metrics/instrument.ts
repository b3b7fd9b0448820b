/**
 * A FirewallPort decorator that records every request's duration and outcome, so the adapters
 * stay free of metrics and every adapter (API client, dry run, fake) is measured the same way.
 */
import { performance } from 'node:perf_hooks';
import type { FirewallPort, GroupRef, ListWrite } from '../xg/port.js';
import type { SidecarMetrics } from './metrics.js';

/** `clock` returns milliseconds (monotonic by default); the op label is the port method's name. */
export function instrumentPort(
  port: FirewallPort,
  firewall: string,
  metrics: Pick<SidecarMetrics, 'request'>,
  clock: () => number = () => performance.now(),
): FirewallPort {
  const timed =
    <A extends unknown[], R>(op: string, fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const start = clock();
      try {
        const result = await fn(...args);
        metrics.request(firewall, op, (clock() - start) / 1000);
        return result;
      } catch (err) {
        metrics.request(firewall, op, (clock() - start) / 1000, err);
        throw err;
      }
    };
  // Spelled out so that a method added to the port is a compile error here, not an unmeasured call.
  return {
    checkLogin: timed('checkLogin', () => port.checkLogin()),
    ensureGroup: timed('ensureGroup', (g: GroupRef) => port.ensureGroup(g)),
    readGroup: timed('readGroup', (g: GroupRef) => port.readGroup(g)),
    addToGroup: timed('addToGroup', (g: GroupRef, a: readonly string[]) => port.addToGroup(g, a)),
    removeFromGroup: timed('removeFromGroup', (g: GroupRef, a: readonly string[]) => port.removeFromGroup(g, a)),
    listOwnedHosts: timed('listOwnedHosts', () => port.listOwnedHosts()),
    readLists: timed('readLists', (g: GroupRef) => port.readLists(g)),
    writeLists: timed('writeLists', (g: GroupRef, s: readonly ListWrite[]) => port.writeLists(g, s)),
    readRules: timed('readRules', () => port.readRules()),
    close: () => port.close(),
  };
}
