/**
 * Hosts mode after lists mode (issue 12, migration back): a group's owned IPList hosts are taken
 * out of the group and deleted only once every address they hold that must stay blocked has its
 * own per-address host in the group. Read with the group (start, failure, resync); an adapter
 * without lists support (XG_UNSUPPORTED) simply has none.
 */
import type { FirewallPort, GroupRef, ListWrite, OwnedList } from '../xg/port.js';
import { errorInfo } from './log.js';

export class ListRetire {
  /** Owned lists as last read; empty once retired. */
  private lists: OwnedList[] = [];

  constructor(
    private readonly port: FirewallPort,
    private readonly group: GroupRef,
  ) {}

  /** Lists still standing (for status). */
  get count(): number {
    return this.lists.length;
  }

  async read(): Promise<void> {
    try {
      this.lists = await this.port.readLists(this.group);
    } catch (err) {
      if (errorInfo(err, 0).code !== 'XG_UNSUPPORTED') throw err;
      this.lists = [];
    }
  }

  /**
   * Called after the pass wrote the per-address hosts. `known`: addresses with a per-address host
   * in the group; `stays(a)`: the address must stay blocked (desired, held, removals held). Those
   * not yet in `known` are added first; then the lists leave the group and are deleted.
   * Returns the addresses it added (for the reconciler's `known`).
   */
  async retire(known: ReadonlySet<string>, stays: (a: string) => boolean, contact: () => void): Promise<string[]> {
    if (this.lists.length === 0) return [];
    const missing = new Set<string>();
    for (const l of this.lists) if (l.member) for (const a of l.addresses) if (!known.has(a) && stays(a)) missing.add(a);
    const add = [...missing].sort();
    if (add.length > 0) {
      await this.port.addToGroup(this.group, add);
      contact();
    }
    const steps: ListWrite[] = [
      ...this.lists.filter((l) => l.member).map((l): ListWrite => ({ op: 'leave', name: l.name, addresses: l.addresses })),
      ...this.lists.map((l): ListWrite => ({ op: 'delete', name: l.name })),
    ];
    await this.port.writeLists(this.group, steps);
    contact();
    this.lists = [];
    return add;
  }
}
