/**
 * Addresses the firewall refuses for good (issue 11 item 3): an admin's own IP host already holds
 * the address (XG 503), an owned host edited by hand to hold another address, a family mismatch.
 * Such an address is set aside: left out of the writes, reported, and tried again rarely (after
 * `retryMs`, and at every resync), so one refused address never holds back anyone else. Pure:
 * times are passed in.
 */
import type { ErrorInfo } from './log.js';

export type WriteOp = 'add' | 'remove';

export interface SetAsideEntry {
  group: string;
  op: WriteOp;
  address: string;
  code: string;
  message: string;
  /** When it was set aside (ms). */
  since: number;
  /** When it is tried again (ms). */
  retryAt: number;
}

export const DEFAULT_SET_ASIDE_RETRY_MS = 3_600_000;

export class SetAside {
  /** group key → `op address` → entry */
  private readonly groups = new Map<string, Map<string, SetAsideEntry>>();

  constructor(private readonly retryMs: number = DEFAULT_SET_ASIDE_RETRY_MS) {}

  /** Records the refusal; true when the address was not set aside already (log it then). */
  add(group: string, op: WriteOp, address: string, info: ErrorInfo, now: number): boolean {
    let m = this.groups.get(group);
    if (!m) this.groups.set(group, (m = new Map()));
    const k = `${op} ${address}`;
    const fresh = !m.has(k);
    m.set(k, { group, op, address, code: info.code, message: info.message, since: m.get(k)?.since ?? now, retryAt: now + this.retryMs });
    return fresh;
  }

  has(group: string, op: WriteOp, address: string): boolean {
    return this.groups.get(group)?.has(`${op} ${address}`) ?? false;
  }

  /**
   * Drops the entries that are due again, and those the desired state no longer asks for (an
   * add of an address since unbanned, a remove of one banned again).
   */
  prune(group: string, now: number, desired: ReadonlySet<string>): void {
    const m = this.groups.get(group);
    if (!m) return;
    for (const [k, e] of m) {
      const stale = e.op === 'add' ? !desired.has(e.address) : desired.has(e.address);
      if (stale || e.retryAt <= now) m.delete(k);
    }
  }

  /** A resync tries everything again. */
  clear(): void {
    this.groups.clear();
  }

  /** The earliest time an entry is due, to schedule a pass then. */
  nextDue(): number | undefined {
    let t: number | undefined;
    for (const m of this.groups.values()) for (const e of m.values()) if (t === undefined || e.retryAt < t) t = e.retryAt;
    return t;
  }

  entries(group?: string): SetAsideEntry[] {
    const ms = group === undefined ? [...this.groups.values()] : [this.groups.get(group) ?? new Map<string, SetAsideEntry>()];
    return ms.flatMap((m) => [...m.values()]);
  }

  count(group: string): number {
    return this.groups.get(group)?.size ?? 0;
  }
}
