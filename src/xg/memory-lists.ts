/**
 * Lists mode in the in-memory fake (memory.ts): owned IPList hosts with the XG's rules that the
 * planner must live with (reference §3.1, §3.3, §9): at most 1000 entries, at least one, each an
 * single address (no network) of the host's family; names of at most 60 characters; an update replaces the whole
 * object; another host with the same content is refused (503); a member cannot be deleted (510).
 * Steps are applied in order and the first refusal is thrown, with the API client's error classes.
 */
import { IPLIST_MAX_ADDRESSES, XG_NAME_MAX, listNamer, type ListNamer } from '../core/list-name.js';
import { canonical, familyOf } from './address.js';
import { errorForStatus, XgValidationError, type XgError } from './errors.js';
import type { GroupRef, ListWrite, OwnedList } from './port.js';
import type { MemHost, MemObjects } from './memory-objects.js';

const TEXT: Record<number, string> = {
  500: 'Operation could not be performed on Entity.',
  501: 'Configuration parameters validation failed.',
  502: 'Operation failed. Entity having same name already exists.',
  503: 'Operation failed. Entity having same parameter details already exists.',
  510: 'Operation failed. Deleting entity referred by another entity.',
};

/** What the 503 check compares: family, type and the set of entries. */
function contentOf(h: Pick<MemHost, 'family' | 'address' | 'list'>): string {
  if (!h.list) return `${h.family}|IP|${h.address}`;
  return `${h.family}|IPList|${[...new Set(h.list.map((a) => canonical(a) ?? a))].sort().join(',')}`;
}

export class MemoryLists {
  private readonly namer: ListNamer;

  constructor(
    private readonly fw: MemObjects,
    prefix: string,
    private readonly group: GroupRef,
  ) {
    this.namer = listNamer(prefix, group.name);
  }

  read(): OwnedList[] {
    const out: OwnedList[] = [];
    for (const h of this.fw.hosts.values()) {
      const shard = this.namer.shardOf(h.name);
      if (shard === undefined) continue;
      const addresses = (h.list ?? [h.address]).map((a) => canonical(a) ?? a);
      out.push({ name: h.name, shard, addresses, member: h.groups.has(this.group.name) });
    }
    return out.sort((a, b) => a.shard - b.shard);
  }

  write(steps: readonly ListWrite[]): void {
    for (const s of steps) {
      if (this.namer.shardOf(s.name) === undefined) {
        throw new XgValidationError(`${s.name} is not one of ${this.group.name}'s lists`, { code: 'XG_NOT_OWNED', op: s.op, name: s.name });
      }
    }
    steps.forEach((step, i) => {
      const code = this.apply(step);
      if (code === undefined) return;
      const err: XgError = errorForStatus(code, TEXT[code], { op: step.op, entity: 'IPHost', name: step.name });
      err.message += ` [step ${i + 1} of ${steps.length}: ${step.op} ${step.name}]`;
      throw err;
    });
  }

  /** Applies one step; the XG's refusal code, or undefined when it landed. */
  private apply(step: ListWrite): number | undefined {
    const h = this.fw.hosts.get(step.name);
    if (step.op === 'delete') return this.remove(h);
    if (step.op === 'create' && h) return 502;
    if (step.op !== 'create' && !h) return 500;
    const g = this.fw.groups.get(this.group.name);
    if (step.op !== 'leave' && (!g || g.family !== this.group.family)) return step.op === 'create' ? 501 : 500;
    if (step.name.length > XG_NAME_MAX || step.addresses.length === 0 || step.addresses.length > IPLIST_MAX_ADDRESSES) return 501;
    // Single addresses of the list's family only: the emulator (and, per the reference, the XG) takes no networks in a list.
    if (step.addresses.some((a) => canonical(a) === undefined || a.includes('/') || familyOf(a) !== this.group.family)) return 501;
    const next = { family: this.group.family, address: '', list: [...step.addresses] };
    const content = contentOf(next);
    for (const o of this.fw.hosts.values()) if (o.name !== step.name && contentOf(o) === content) return 503;
    const groups = new Set([...(h?.groups ?? [])].filter((x) => x !== this.group.name));
    if (step.op !== 'leave') groups.add(this.group.name);
    for (const old of h?.groups ?? []) if (!groups.has(old)) this.fw.groups.get(old)?.members.delete(step.name);
    for (const x of groups) this.fw.groups.get(x)?.members.add(step.name);
    this.fw.hosts.set(step.name, { name: step.name, ...next, groups });
    this.fw.changed();
    return undefined;
  }

  /**
   * Like the client: a list already gone is done; a member of this group is refused (510) and
   * reported; one kept by another group is left in place.
   */
  private remove(h: MemHost | undefined): number | undefined {
    if (!h) return undefined;
    if (h.groups.has(this.group.name)) return 510;
    if (h.groups.size > 0) return undefined;
    this.fw.hosts.delete(h.name);
    this.fw.changed();
    return undefined;
  }
}
