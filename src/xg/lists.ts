/**
 * Lists mode over the XML API (issue 12): a group's addresses in owned IPList hosts named by
 * core/list-name.ts. Reads are one Get of the group's list names; writes pack several lists per
 * request. Decisions about what to write are the planner's (src/pipeline/packing.ts); this unit
 * only sends the steps safely.
 *
 * An update replaces the whole object (reference §3.3, §4.3), so every write resends the name,
 * family, type, full address list, every group and the description. Groups other than this one
 * that an admin put the list into are remembered from the last read and resent, not dropped.
 *
 * Requests never let a removal get ahead of the addition it depends on: the XG answers each entity
 * of a request on its own, so a step that takes an address out of a list never shares a request
 * with an earlier step that writes that address into another list (if that one failed, the address
 * would be unblocked). Once a step fails, no further request is sent.
 */
import { listNamer, type ListNamer } from '../core/list-name.js';
import { normalizeAddress } from '../core/address.js';
import type { GroupRef, ListWrite, OwnedList } from './port.js';
import { addressOfHost } from './address.js';
import { XgValidationError, type XgError } from './errors.js';
import type { XgLogger } from './log.js';
import { MANAGED_DESCRIPTION, combine } from './membership.js';
import { ipHostXml, removeXml } from './request-xml.js';
import type { WriteBlock, WriteItem, WriteResult, XgTransport } from './transport.js';
import { decodeHost, type RawHost } from './xml.js';

/** What the client last saw of a list: its content (to know what a rewrite drops) and its other groups. */
interface Known {
  addresses: ReadonlySet<string>;
  others: readonly string[];
}

export interface ListLimits {
  /** Lists per request (the transport's batchSize in lists mode). */
  listsPerRequest: number;
  /** Addresses per request across its lists (1000 IPv6 addresses are up to ~40 KB of XML). */
  addressesPerRequest: number;
}

export const DEFAULT_ADDRESSES_PER_REQUEST = 25_000;

/** Remove answers that mean "referenced" or "not found" depending on firmware (§11.8, §11.9): a Get decides. */
const UNSURE_DELETE = new Set([504, 509, 510, 526, 528]);

/** The list's entries as the planner compares them: canonical where they parse, as they stand where not. */
export function listEntries(h: RawHost): string[] {
  if (h.hostType !== 'IPList') {
    const a = addressOfHost(h);
    return a === undefined ? [] : [a];
  }
  return (h.listOfIps ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => normalizeAddress(s)?.ip ?? s);
}

interface Planned {
  step: ListWrite;
  index: number;
  item: WriteItem;
  kind: WriteBlock['kind'];
}

export class XgLists {
  private readonly known = new Map<string, Known>();

  constructor(
    private readonly transport: XgTransport,
    private readonly prefix: string,
    private readonly log: XgLogger,
    private readonly limits: ListLimits,
  ) {}

  namer(group: GroupRef): ListNamer {
    return listNamer(this.prefix, group.name);
  }

  async read(group: GroupRef): Promise<OwnedList[]> {
    const namer = this.namer(group);
    const out = new Map<string, OwnedList>();
    for (const name of [...this.known.keys()]) if (namer.shardOf(name) !== undefined) this.known.delete(name);
    // The filter narrows the answer to this group's lists; firmware may ignore it, so the namer decides.
    await this.transport.forEach('IPHost', { key: 'Name', criteria: 'like', value: namer.stem }, (f) => {
      const h = decodeHost(f);
      const shard = h && h.hostType !== 'System Host' ? namer.shardOf(h.name) : undefined;
      if (!h || shard === undefined || out.has(h.name)) return;
      const addresses = listEntries(h);
      out.set(h.name, { name: h.name, shard, addresses, member: h.groups.includes(group.name) });
      this.known.set(h.name, { addresses: new Set(addresses), others: h.groups.filter((g) => g !== group.name) });
    });
    return [...out.values()].sort((a, b) => a.shard - b.shard);
  }

  async write(group: GroupRef, steps: readonly ListWrite[]): Promise<void> {
    const namer = this.namer(group);
    // Only this group's lists are ever written, whatever the caller asks: nothing else is ours to touch.
    for (const s of steps) {
      if (namer.shardOf(s.name) === undefined) {
        throw new XgValidationError(`${s.name} is not one of ${group.name}'s lists`, { code: 'XG_NOT_OWNED', op: s.op, name: s.name });
      }
    }
    const requests = this.requests(group, steps);
    for (const req of requests) {
      const results = await this.transport.writeBlocks('IPHost', blocks(req));
      const failed = await this.settle(group, req, results);
      if (failed.length > 0) {
        const first = failed[0] as { planned: Planned; error: XgError };
        const err = combine(failed.map((f) => f.error)) as XgError;
        err.message += ` [step ${first.planned.index + 1} of ${steps.length}: ${first.planned.step.op} ${first.planned.step.name}]`;
        throw err;
      }
    }
  }

  /** Splits the steps into requests: size limits, blocks of one kind adjacent, no removal beside the addition it needs. */
  private requests(group: GroupRef, steps: readonly ListWrite[]): Planned[][] {
    const out: Planned[][] = [];
    let req: Planned[] = [];
    let added = new Set<string>();
    let addresses = 0;
    steps.forEach((step, index) => {
      const planned = this.planned(group, step, index);
      const { adds, drops } = this.effect(step);
      const size = 'addresses' in step ? step.addresses.length : 0;
      const kinds = req.map((p) => p.kind);
      const reopens = kinds.length > 0 && kinds[kinds.length - 1] !== planned.kind && kinds.includes(planned.kind);
      const unsafe = drops === undefined ? added.size > 0 : [...drops].some((a) => added.has(a));
      const full = req.length >= this.limits.listsPerRequest || (req.length > 0 && addresses + size > this.limits.addressesPerRequest);
      if (req.length > 0 && (reopens || unsafe || full)) {
        out.push(req);
        req = [];
        added = new Set();
        addresses = 0;
      }
      req.push(planned);
      for (const a of adds) added.add(a);
      addresses += size;
    });
    if (req.length > 0) out.push(req);
    return out;
  }

  /** What a step writes into the group and what it may take out (undefined: unknown, so anything). */
  private effect(step: ListWrite): { adds: Iterable<string>; drops: ReadonlySet<string> | undefined } {
    const old = this.known.get(step.name)?.addresses;
    switch (step.op) {
      case 'create':
        return { adds: step.addresses, drops: new Set() };
      case 'update': {
        if (!old) return { adds: step.addresses, drops: undefined };
        const next = new Set(step.addresses);
        return { adds: step.addresses.filter((a) => !old.has(a)), drops: new Set([...old].filter((a) => !next.has(a))) };
      }
      case 'leave':
        return { adds: [], drops: new Set([...step.addresses, ...(old ?? [])]) };
      case 'delete':
        // The XG refuses to delete a member (510): a delete never takes an address out of the group.
        return { adds: [], drops: new Set() };
    }
  }

  private planned(group: GroupRef, step: ListWrite, index: number): Planned {
    if (step.op === 'delete')
      return { step, index, kind: 'remove', item: { name: step.name, node: removeXml('IPHost', step.name), op: 'delete' } };
    const others = this.known.get(step.name)?.others ?? [];
    const groups = step.op === 'leave' ? [...others] : [group.name, ...others];
    const node = ipHostXml({
      name: step.name,
      family: group.family,
      hostType: 'IPList',
      listOfIps: step.addresses.join(','),
      description: MANAGED_DESCRIPTION,
      groups,
    });
    return { step, index, kind: step.op === 'create' ? 'add' : 'update', item: { name: step.name, node, op: step.op } };
  }

  /** Records what landed; returns the failures, in step order (an unsure delete is settled by a Get). */
  private async settle(
    group: GroupRef,
    req: readonly Planned[],
    results: readonly WriteResult[],
  ): Promise<{ planned: Planned; error: XgError }[]> {
    const failed: { planned: Planned; error: XgError }[] = [];
    const unsure: { planned: Planned; error: XgError; code: number }[] = [];
    req.forEach((planned, i) => {
      const r = results[i] as WriteResult;
      const { step } = planned;
      if (!r.error) {
        if (step.op === 'delete') this.known.delete(step.name);
        else this.known.set(step.name, { addresses: new Set(step.addresses), others: this.known.get(step.name)?.others ?? [] });
        return;
      }
      this.known.delete(step.name);
      const code = r.status?.code;
      if (step.op === 'delete' && code !== undefined && UNSURE_DELETE.has(code)) unsure.push({ planned, error: r.error, code });
      else failed.push({ planned, error: r.error });
    });
    if (unsure.length > 0) failed.push(...(await this.unsureDeletes(group, unsure)));
    return failed.sort((a, b) => a.planned.index - b.planned.index);
  }

  /**
   * A delete answered "referenced" or "not found": gone is done (our own earlier attempt); still in
   * this group is a failure; kept by a rule or another group is left in place (it blocks nothing
   * through this group) with a warning, as for per-address hosts.
   */
  private async unsureDeletes(group: GroupRef, unsure: { planned: Planned; error: XgError; code: number }[]) {
    const now = new Map<string, RawHost>();
    const names = new Set(unsure.map((u) => u.planned.step.name));
    const filters = [...names].map((value) => ({ key: 'Name', criteria: '=' as const, value }));
    await this.transport.forEachOf('IPHost', filters, (f) => {
      const h = decodeHost(f);
      if (h && names.has(h.name)) now.set(h.name, h);
    });
    const failed: { planned: Planned; error: XgError }[] = [];
    for (const u of unsure) {
      const h = now.get(u.planned.step.name);
      if (!h) continue;
      this.known.set(h.name, { addresses: new Set(listEntries(h)), others: h.groups.filter((g) => g !== group.name) });
      if (h.groups.includes(group.name)) failed.push(u);
      else
        this.log.warn(
          `list ${h.name} left the group ${group.name} but could not be deleted (XG ${u.code}): still referenced; left in place`,
        );
    }
    return failed;
  }
}

/** Consecutive items of one kind form a block. */
function blocks(req: readonly Planned[]): WriteBlock[] {
  const out: { kind: WriteBlock['kind']; items: WriteItem[] }[] = [];
  for (const p of req) {
    const last = out[out.length - 1];
    if (last && last.kind === p.kind) last.items.push(p.item);
    else out.push({ kind: p.kind, items: [p.item] });
  }
  return out;
}
