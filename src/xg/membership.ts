/**
 * Group membership through owned IP host objects: what to create, update and delete so that
 * addresses join or leave a group. Decisions only; the objects are read and written through a
 * HostStore (objects.ts over the XML API, or a fake in tests).
 *
 * Membership is always written from the OWNED HOST's side (its HostGroupList), never by
 * rewriting a group's HostList: a group is shared with admins and other sidecars, and an update
 * replaces the whole object, so a stale group read would silently drop their members. A host
 * update is a full replace too, so it resends every field read back plus every group.
 *
 * Every step tolerates its own earlier, timed-out attempt (an "exists" or "not found" answer is
 * re-read, not reported), so add and remove are idempotent and may simply be retried.
 *
 * A second object kind (e.g. IPList objects holding many addresses) is another implementation
 * of `Membership` over the same HostStore: the client only calls `add` and `remove`.
 */
import type { GroupRef } from './port.js';
import { hostName } from './naming.js';
import { addressFields, addressOfHost, canonical, familyOf } from './address.js';
import { XgConflictError, XgNotFoundError, XgOperationError, XgValidationError, type XgError } from './errors.js';
import type { XgLogger } from './log.js';
import type { HostFields } from './request-xml.js';
import type { WriteResult } from './transport.js';
import type { RawGroup, RawHost, XgStatus } from './xml.js';

export const MANAGED_DESCRIPTION = 'Managed by f2b-sophosxg';

/** What membership needs of the firewall's objects. */
export interface HostStore {
  /** Owned hosts by name (with `only`, just those names). */
  ownedHosts(only?: ReadonlySet<string>): Promise<Map<string, RawHost>>;
  group(name: string): Promise<RawGroup | undefined>;
  /** One result per host, in order; an error on a result means that object was not written. */
  createHosts(hosts: readonly HostFields[]): Promise<WriteResult[]>;
  updateHosts(hosts: readonly HostFields[]): Promise<WriteResult[]>;
  removeHosts(names: readonly string[]): Promise<WriteResult[]>;
}

export interface Membership {
  add(group: GroupRef, addresses: readonly string[]): Promise<void>;
  remove(group: GroupRef, addresses: readonly string[]): Promise<void>;
}

/** Remove answers that mean "referenced" or "not found" depending on firmware (§11.8, §11.9). */
const NOT_FOUND_OR_REFERENCED = new Set([504, 509, 510, 526, 528]);

/** Several per-object failures become one error: the most severe first, the rest named in its message. */
export function combine(errors: readonly XgError[]): XgError | undefined {
  if (errors.length === 0) return undefined;
  const sorted = [...errors].sort((a, b) => Number(a.retryable) - Number(b.retryable));
  const first = sorted[0] as XgError;
  if (sorted.length > 1) {
    const rest = sorted.slice(1, 6).map((e) => `${e.xgStatus ?? e.code} on ${e.objectName ?? '?'}`);
    first.message += `; and ${sorted.length - 1} more failure(s): ${rest.join(', ')}${sorted.length > 6 ? ', …' : ''}`;
  }
  return first;
}

/** The error for a group that exists with the other family; undefined when the family is right. */
export function groupFamilyError(raw: RawGroup, group: GroupRef): XgError | undefined {
  if (raw.family === group.family) return undefined;
  return new XgValidationError(`IP host group ${group.name} exists with family ${raw.family}, expected ${group.family}`, {
    code: 'XG_GROUP_FAMILY_MISMATCH',
    entity: 'IPHostGroup',
    name: group.name,
    hint: 'use a separate group per address family; the client never rewrites an existing group',
  });
}

/** Owned host name → address for each distinct address; throws before any write when one cannot join. */
export function wantedHosts(prefix: string, group: GroupRef, addresses: readonly string[]): Map<string, string> {
  const wanted = new Map<string, string>();
  for (const a of new Set(addresses.map((x) => canonical(x) ?? x))) {
    const fam = familyOf(a);
    if (!fam) throw new XgValidationError(`not an IP address or network: ${a}`, { code: 'XG_BAD_ADDRESS', op: 'add', name: a });
    if (fam !== group.family) {
      throw new XgValidationError(`${fam} address ${a} cannot join ${group.family} group ${group.name}`, {
        code: 'XG_FAMILY_MISMATCH',
        op: 'add',
        name: a,
      });
    }
    wanted.set(hostName(prefix, a), a);
  }
  return wanted;
}

/** A host under our name that holds another address: never rewritten, reported. */
function hostMismatch(h: RawHost, address: string): XgError {
  return new XgConflictError(`host ${h.name} exists but holds ${addressOfHost(h) ?? 'no usable address'} instead of ${address}`, {
    code: 'XG_HOST_MISMATCH',
    op: 'add',
    entity: 'IPHost',
    name: h.name,
    hint: 'left untouched; delete or fix it on the firewall',
  });
}

/**
 * 503: an object this sidecar does not own already holds the address. Adding *that* object to
 * the group would rewrite it (full replace of someone else's host), so it is reported instead.
 */
function foreignHolder(name: string, group: GroupRef, address: string, status: XgStatus): XgError {
  return new XgConflictError(`address ${address} is already held by an IP host this sidecar does not own`, {
    code: 'XG_FOREIGN_HOLDER',
    op: 'add',
    entity: 'IPHost',
    name,
    ...(status.code !== undefined ? { xgStatus: status.code } : {}),
    xgText: status.text,
    hint: `that object was left untouched and ${address} is NOT blocked through ${group.name}; add it to the group by hand or delete it`,
  });
}

function nameTaken(name: string): XgError {
  return new XgConflictError(`host name ${name} is taken by an object this sidecar cannot read as its own`, {
    code: 'XG_NAME_EXISTS',
    op: 'add',
    entity: 'IPHost',
    name,
  });
}

/** One owned IP host object per address (HostType IP or Network), member of every group that holds the address. */
export class HostMembership implements Membership {
  constructor(
    private readonly store: HostStore,
    private readonly prefix: string,
    private readonly log: XgLogger,
  ) {}

  async add(group: GroupRef, addresses: readonly string[]): Promise<void> {
    const wanted = wantedHosts(this.prefix, group, addresses);
    if (wanted.size === 0) return;
    const errors: XgError[] = [];
    // Optimistic: a banned address normally has no host yet (an unban deletes it), so create
    // first and read the owned hosts only when a name already exists (502). Reading them before
    // every batch cost one Get of the whole owned list per write: with 10,000 bans that read,
    // not the write, dominated a burst, and it added a round trip to every single ban.
    const creates = [...wanted].map(([name, address]) => ({
      name,
      ...addressFields(address),
      description: MANAGED_DESCRIPTION,
      groups: [group.name],
    }));
    const exists: string[] = [];
    for (const r of await this.store.createHosts(creates)) {
      if (!r.error) continue;
      if (r.status?.code === 502) exists.push(r.name);
      else if (r.status?.code === 503) errors.push(foreignHolder(r.name, group, wanted.get(r.name) ?? r.name, r.status));
      else errors.push(r.error);
    }
    const joins = exists.length > 0 ? await this.joining(group, exists, wanted, errors) : [];
    for (const r of await this.store.updateHosts(joins)) if (r.error) errors.push(r.error);
    const err = combine(errors);
    if (err) throw (await this.diagnoseGroup(group, errors)) ?? err;
  }

  /**
   * Hosts that existed already (created meanwhile, e.g. by our own timed-out write): re-read,
   * and those that hold the right address and are not yet members get the group added.
   */
  private async joining(
    group: GroupRef,
    names: readonly string[],
    wanted: ReadonlyMap<string, string>,
    errors: XgError[],
  ): Promise<HostFields[]> {
    const owned = await this.store.ownedHosts(new Set(names));
    const joins: HostFields[] = [];
    for (const name of names) {
      const h = owned.get(name);
      const address = wanted.get(name) ?? name;
      if (!h) errors.push(nameTaken(name));
      else if (addressOfHost(h) !== address) errors.push(hostMismatch(h, address));
      else if (!h.groups.includes(group.name)) joins.push({ ...h, groups: [...h.groups, group.name] });
    }
    return joins;
  }

  async remove(group: GroupRef, addresses: readonly string[]): Promise<void> {
    const targets = await this.targets(addresses);
    const errors: XgError[] = [];
    const stuck = await this.leave(group, targets, errors);
    // Only hosts now in no group are deleted (a member cannot be removed, and other groups keep theirs).
    const orphans = targets.filter((h) => !stuck.has(h.name) && h.groups.every((g) => g === group.name));
    await this.deleteHosts(group, orphans, errors);
    const err = combine(errors);
    if (err) throw err;
  }

  /** The owned hosts that hold these addresses; a host under our name holding another address is left alone. */
  private async targets(addresses: readonly string[]): Promise<RawHost[]> {
    const unique = new Set(addresses.map((x) => canonical(x) ?? x));
    const owned = await this.store.ownedHosts(new Set([...unique].map((a) => hostName(this.prefix, a))));
    const targets: RawHost[] = [];
    for (const a of unique) {
      const h = owned.get(hostName(this.prefix, a));
      if (!h) continue;
      if (addressOfHost(h) !== a) {
        this.log.warn(`host ${h.name} does not hold ${a} (it holds ${addressOfHost(h) ?? 'no address'}); left untouched`);
        continue;
      }
      targets.push(h);
    }
    return targets;
  }

  /** Takes the hosts out of the group; returns the names of those still in it afterwards. */
  private async leave(group: GroupRef, targets: readonly RawHost[], errors: XgError[]): Promise<Set<string>> {
    const leaving = targets
      .filter((h) => h.groups.includes(group.name))
      .map((h) => ({ ...h, groups: h.groups.filter((g) => g !== group.name) }));
    const failed = (await this.store.updateHosts(leaving)).filter((r) => r.error);
    const stuck = new Set<string>();
    if (failed.length === 0) return stuck;
    // A host deleted or changed meanwhile (e.g. by our own timed-out earlier attempt) is not a failure.
    const now = await this.store.ownedHosts(new Set(failed.map((r) => r.name)));
    for (const r of failed) {
      if (!now.get(r.name)?.groups.includes(group.name)) continue;
      errors.push(r.error as XgError);
      stuck.add(r.name);
    }
    return stuck;
  }

  private async deleteHosts(group: GroupRef, hosts: readonly RawHost[], errors: XgError[]): Promise<void> {
    const unsure: WriteResult[] = [];
    for (const r of await this.store.removeHosts(hosts.map((h) => h.name))) {
      if (!r.error) continue;
      if (r.status?.code !== undefined && NOT_FOUND_OR_REFERENCED.has(r.status.code)) unsure.push(r);
      else errors.push(r.error);
    }
    if (unsure.length === 0) return;
    // "Referenced" or "not found", depending on firmware: a Get decides.
    const now = await this.store.ownedHosts(new Set(unsure.map((r) => r.name)));
    for (const r of unsure) {
      if (!now.has(r.name)) continue;
      this.log.warn(
        `host ${r.name} left the group ${group.name} but could not be deleted (XG ${r.status?.code} "${r.status?.text ?? ''}"): ` +
          'it is still referenced (e.g. by a firewall rule); left in place, it blocks nothing through this group',
      );
    }
  }

  /** A write refused with 500/501/526 most often means the group is missing or has the other family. */
  private async diagnoseGroup(group: GroupRef, errors: readonly XgError[]): Promise<XgError | undefined> {
    if (!errors.some((e) => e instanceof XgValidationError || e instanceof XgOperationError || e instanceof XgNotFoundError)) {
      return undefined;
    }
    const raw = await this.store.group(group.name);
    if (raw) return groupFamilyError(raw, group);
    return new XgNotFoundError(`IP host group ${group.name} does not exist`, {
      code: 'XG_GROUP_MISSING',
      op: 'add',
      entity: 'IPHostGroup',
      name: group.name,
      hint: 'ensureGroup must run first',
      cause: errors[0],
    });
  }
}
