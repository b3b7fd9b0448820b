/**
 * Packed IP lists: one group's addresses kept in owned IPList hosts of at most `listSize`
 * addresses each, and the fewest list writes that take the lists from what stands to what is
 * desired. Pure: no I/O, no clock.
 *
 * Why the plan is staged: an XG update replaces the whole list (reference §3.3), so moving an
 * address means writing it into one list and out of another. If the second write went first,
 * the address would be unblocked in between. Every address that leaves a list while still
 * desired is therefore written into its new list in the `gain` stage; the lists that give it up
 * are only rewritten (`lose`) or taken out of the group (`group`) after every gain succeeded.
 */
import { IPLIST_MAX_ADDRESSES, type ListNamer } from '../core/list-name.js';

/** The IPList cap, kept here too for the planner's callers. */
export { IPLIST_MAX_ADDRESSES };

// ---- plan ----------------------------------------------------------------------------------------

export type ListStep =
  /** A new list, created as a member of the group (HostGroupList in the same write). */
  | { op: 'create'; name: string; addresses: string[] }
  /** The list's whole new content (an update replaces it); it stays in the group. */
  | { op: 'update'; name: string; addresses: string[] }
  /** An emptied list leaves the group; `addresses` is its content as it stands (a list cannot be empty). */
  | { op: 'leave'; name: string; addresses: string[] }
  /** Delete a list that has left the group. */
  | { op: 'delete'; name: string };

export interface ListPlan {
  /** Lists that gain addresses (created or rewritten). May share one request. */
  gain: ListStep[];
  /** Emptied lists leave the group. After every gain step succeeded. */
  group: ListStep[];
  /** Lists that only lose addresses are rewritten, then emptied lists are deleted. After `group`. */
  lose: ListStep[];
  /** Desired addresses that change lists. With 0, the stages do not depend on each other and may go in one request, in order. */
  moved: number;
  /** Every list after the plan, name → addresses; lists absent here no longer exist. */
  lists: Map<string, string[]>;
  /**
   * Desired networks ("198.51.100.0/24"), sorted: an IPList takes single addresses only (the XG
   * refuses the write), so none is put in a list. The caller must block them another way.
   */
  unlisted: string[];
}

export interface PackInput {
  /** The group's owned lists as they stand: name → addresses (canonical text). */
  current: ReadonlyMap<string, readonly string[]>;
  /** Every address the group's lists must hold afterwards (networks are left out: `unlisted`). */
  desired: ReadonlySet<string>;
  /** At most this many addresses per list (1 … IPLIST_MAX_ADDRESSES). */
  listSize: number;
  namer: ListNamer;
  /**
   * `auto` (default): move addresses only when the lists exceed ⌈N / listSize⌉ + 1.
   * `never`: removals only leave room. `full`: pack into ⌈N / listSize⌉ lists.
   */
  compact?: 'auto' | 'never' | 'full';
}

/** The desired set from what the lists hold and a batch of changes (an address in both is removed). */
export function desiredAfter(
  current: ReadonlyMap<string, readonly string[]>,
  adds: Iterable<string>,
  removes: Iterable<string>,
): Set<string> {
  const out = new Set<string>();
  for (const list of current.values()) for (const a of list) out.add(a);
  for (const a of adds) out.add(a);
  for (const a of removes) out.delete(a);
  return out;
}

/** Where each list stands while planning. */
interface Slot {
  name: string;
  /** The namer's shard number of the name (Infinity for a name it did not make). */
  shard: number;
  /** Index in `current` order (new lists after), the deterministic tie-break. */
  order: number;
  isNew: boolean;
  before: readonly string[];
  /** Desired addresses it held and still holds, in their order. */
  keep: string[];
  /** Addresses written in by this plan (new or moved in). */
  added: string[];
  /** Desired addresses it gives to other lists (compaction, over the cap). */
  givesAway: number;
}

const size = (s: Slot) => s.keep.length + s.added.length;

export function planLists(input: PackInput): ListPlan {
  const { listSize } = input;
  if (!Number.isInteger(listSize) || listSize < 1 || listSize > IPLIST_MAX_ADDRESSES) {
    throw new RangeError(`listSize must be an integer in 1..${IPLIST_MAX_ADDRESSES}, got ${listSize}`);
  }
  // Shard order, not the Map's: the same lists read back in another order give the same plan.
  const slots = [...input.current]
    .map(([name, before]) => ({ name, shard: input.namer.shardOf(name) ?? Infinity, before }))
    .sort((a, b) => a.shard - b.shard || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((s, order): Slot => ({ ...s, order, isNew: false, keep: [], added: [], givesAway: 0 }));
  // One network would make its list's every write fail (and the next pass plan it again).
  const unlisted = [...input.desired].filter(isNetwork).sort();
  const desired = unlisted.length === 0 ? input.desired : new Set([...input.desired].filter((a) => !isNetwork(a)));
  const homeless = keepDesired(slots, desired, listSize);
  const fresh = [...desired].filter((a) => !homeless.moved.has(a) && !homeless.placed.has(a)).sort();
  // Addresses over a list's cap move first (they are blocked now), then the new ones.
  place(slots, [...homeless.moved].sort(), listSize, input.namer, true);
  place(slots, fresh, listSize, input.namer, false);
  compact(slots, desired.size, listSize, input.compact ?? 'auto');
  keepEqualLists(slots);
  return { ...toPlan(slots), unlisted };
}

/** Canonical text (core/address.ts): a network keeps its "/prefix"; "/32" and "/128" are plain addresses. */
const isNetwork = (a: string): boolean => a.includes('/');

/** Fills `keep`; returns desired addresses already held once (`placed`) and those that must move off an over-full list. */
function keepDesired(slots: Slot[], desired: ReadonlySet<string>, listSize: number): { placed: Set<string>; moved: Set<string> } {
  const placed = new Set<string>();
  const moved = new Set<string>();
  for (const s of slots) {
    for (const a of s.before) {
      if (!desired.has(a) || placed.has(a)) continue;
      placed.add(a);
      if (s.keep.length < listSize) s.keep.push(a);
      else {
        moved.add(a);
        s.givesAway++;
      }
    }
  }
  for (const a of moved) placed.delete(a);
  return { placed, moved };
}

/** A list is rewritten when its content as a set, or its count (duplicates), changes. */
function touched(s: Slot): boolean {
  // An empty list cannot exist on the XG; if one is reported, it goes.
  if (s.isNew || s.added.length > 0 || s.givesAway > 0 || s.before.length === 0) return true;
  return s.keep.length !== s.before.length;
}

/**
 * New addresses fill free room first, the fewest lists possible: lists rewritten anyway, then
 * the roomiest, then new lists. `moving` addresses are blocked where they are now; they only go
 * to lists that hold other addresses too (a list made of nothing but another list's addresses
 * would have that list's exact content at the moment it is written: 503 on the XG).
 */
function place(slots: Slot[], addresses: string[], listSize: number, namer: ListNamer, moving: boolean): void {
  let i = 0;
  const room = (s: Slot) => listSize - size(s);
  const candidates = slots
    .filter((s) => s.givesAway === 0 && room(s) > 0 && (!moving || size(s) > 0))
    .sort((a, b) => Number(touched(b)) - Number(touched(a)) || room(b) - room(a) || a.order - b.order);
  for (const s of candidates) {
    while (i < addresses.length && room(s) > 0) s.added.push(addresses[i++] as string);
  }
  while (i < addresses.length) {
    // Moving addresses come off an over-full list that keeps listSize of its own: a new list of
    // them is never that list's exact content.
    const s = newSlot(slots, namer);
    while (i < addresses.length && s.added.length < listSize) s.added.push(addresses[i++] as string);
  }
}

function newSlot(slots: Slot[], namer: ListNamer): Slot {
  // The lowest shard no list uses, searched from the newest list's: linear in lists, not quadratic.
  const last = slots.at(-1);
  let shard = last?.isNew ? last.shard + 1 : 1;
  const taken = new Set<number>();
  for (const s of slots) if (s.shard >= shard) taken.add(s.shard);
  while (taken.has(shard)) shard++;
  const s: Slot = { name: namer.name(shard), shard, order: slots.length, isNew: true, before: [], keep: [], added: [], givesAway: 0 };
  slots.push(s);
  return s;
}

/**
 * Empties the smallest lists into the others' room while there are more lists than the bound.
 * Addresses written in by this plan are just placed elsewhere; blocked ones become moves.
 */
function compact(slots: Slot[], n: number, listSize: number, mode: 'auto' | 'never' | 'full'): void {
  if (mode === 'never') return;
  const need = Math.ceil(n / listSize);
  const bound = mode === 'full' ? need : need + 1;
  for (;;) {
    const live = slots.filter((s) => size(s) > 0);
    if (live.length <= bound) return;
    const src = live.reduce((a, b) => (size(b) < size(a) || (size(b) === size(a) && b.order > a.order) ? b : a));
    const outgoing = [...src.keep, ...src.added];
    src.givesAway += src.keep.length;
    src.keep = [];
    src.added = [];
    const targets = live.filter((s) => s !== src).sort((a, b) => listSize - size(b) - (listSize - size(a)) || a.order - b.order);
    let i = 0;
    for (const t of targets) while (i < outgoing.length && size(t) < listSize) t.added.push(outgoing[i++] as string);
    // The bound guarantees the room: (live − 1) × listSize ≥ n when live > ⌈n / listSize⌉.
    if (i < outgoing.length) throw new Error(`packing: no room for ${outgoing.length - i} addresses (bug)`);
  }
}

/**
 * A list written in `gain` must not equal (as a set) a list that is emptied later: that one
 * still stands during `gain`, and the XG refuses the write (503). Lists are disjoint once the
 * plan is done, so such a written list X holds exactly the emptied list Y's addresses — e.g.
 * Y = [a, b] and X = [a] (hand-made duplicate, a kept in the lower shard), compaction empties
 * Y into X: X = [a, b] = Y. Reordering cannot help (Y changes only in a later stage). Keeping
 * Y as it stands and emptying X instead reaches the same addresses with fewer writes, and
 * nothing is unblocked: X's addresses are all in Y, which is never written. Likewise a list
 * given back exactly what it holds is not written at all.
 */
function keepEqualLists(slots: Slot[]): void {
  const emptied = new Map<string, Slot>();
  for (const y of slots) {
    const key = contentKey(y.before);
    if (!y.isNew && y.before.length > 0 && size(y) === 0 && !emptied.has(key)) emptied.set(key, y);
  }
  for (const x of slots) {
    if (x.added.length === 0) continue; // not written in `gain`
    const key = contentKey([...x.keep, ...x.added]);
    if (!x.isNew && x.givesAway === 0 && key === contentKey(x.before) && size(x) === x.before.length) {
      // It already holds exactly this (an address held twice went back where it was): no write.
      x.keep = [...x.before];
      x.added = [];
      continue;
    }
    const y = emptied.get(key);
    if (y === undefined || y === x) continue;
    emptied.delete(contentKey(y.before));
    y.keep = [...new Set(y.before)];
    y.givesAway = 0;
    x.keep = [];
    x.added = [];
  }
}

function toPlan(slots: Slot[]): Omit<ListPlan, 'unlisted'> {
  const gain: ListStep[] = [];
  const group: ListStep[] = [];
  const shrink: ListStep[] = [];
  const deletes: ListStep[] = [];
  const lists = new Map<string, string[]>();
  let moved = 0;
  for (const s of [...slots].sort((a, b) => a.order - b.order)) {
    const after = [...s.keep, ...s.added];
    moved += s.givesAway;
    if (after.length > 0) lists.set(s.name, after);
    if (!touched(s)) continue;
    if (after.length === 0) {
      if (s.isNew) continue;
      group.push({ op: 'leave', name: s.name, addresses: [...s.before] });
      deletes.push({ op: 'delete', name: s.name });
    } else if (s.isNew) {
      gain.push({ op: 'create', name: s.name, addresses: after });
    } else if (s.added.length > 0) {
      gain.push({ op: 'update', name: s.name, addresses: after });
    } else {
      shrink.push({ op: 'update', name: s.name, addresses: after });
    }
  }
  // Deletes first: a shrunk list may end up with the content of a list on its way out (503).
  const content = new Map(slots.filter((s) => !s.isNew).map((s) => [s.name, contentKey(s.before)]));
  const stages = [gain, group, [...deletes, ...shrink]].map((stage) => orderFor503(stage, content));
  return { gain: stages[0] ?? [], group: stages[1] ?? [], lose: stages[2] ?? [], moved, lists };
}

const contentKey = (addresses: readonly string[]) => [...new Set(addresses)].sort().join(',');

/**
 * The XG refuses (503) a host whose content equals another host's. Lists are disjoint once the
 * plan is done, but a hand-made duplicate can make a written list equal, for a moment, to one
 * written later in the same stage: that one goes first. `content` tracks every list as it
 * stands and is advanced past the stage. A cycle (never seen) keeps the order; the write
 * then fails with 503, harmlessly, and the next read-back plans again.
 */
function orderFor503(stage: ListStep[], content: Map<string, string>): ListStep[] {
  const holders = new Map<string, Set<string>>(); // content → names of the lists holding it
  const hold = (name: string, key: string | undefined, on: boolean) => {
    if (key === undefined) return;
    const set = holders.get(key) ?? new Set<string>();
    if (on) set.add(name);
    else set.delete(name);
    if (set.size > 0) holders.set(key, set);
    else holders.delete(key);
  };
  for (const [name, key] of content) hold(name, key, true);
  const keys = new Map(stage.map((st) => [st, st.op === 'create' || st.op === 'update' ? contentKey(st.addresses) : undefined]));
  const clashes = (st: ListStep) => {
    const held = holders.get(keys.get(st) ?? '');
    return held !== undefined && [...held].some((n) => n !== st.name);
  };
  const out: ListStep[] = [];
  const rest = new Set(stage);
  while (rest.size > 0) {
    let next = rest.values().next().value as ListStep;
    for (const st of rest) {
      if (!clashes(st)) {
        next = st;
        break;
      }
    }
    rest.delete(next);
    out.push(next);
    const key = keys.get(next);
    if (next.op === 'leave') continue;
    hold(next.name, content.get(next.name), false);
    if (next.op === 'delete') content.delete(next.name);
    else if (key !== undefined) {
      content.set(next.name, key);
      hold(next.name, key, true);
    }
  }
  return out;
}

/** The plan's steps in the order they must be applied. */
export function planSteps(plan: ListPlan): ListStep[] {
  return [...plan.gain, ...plan.group, ...plan.lose];
}
