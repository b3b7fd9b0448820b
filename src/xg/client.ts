/**
 * FirewallPort over the Sophos XG XML API (reference §1, §10): the port's operations, run one at
 * a time, on top of the transport (transport.ts), the object reads and writes (objects.ts) and
 * the membership decisions (membership.ts).
 *
 * Every operation re-reads before it writes (a timed-out write may have been applied), so each is
 * idempotent; the client classifies errors (retryable or not) and leaves retrying to the pipeline.
 */
import type { FirewallPort, GroupRef, GroupState, ListWrite, OwnedHost, OwnedList } from './port.js';
import type { FirewallRuleView } from './port.js';
import { readRules } from './rules.js';
import { addressOfHost } from './address.js';
import { isOwnedName } from './naming.js';
import { XgTransportError } from './errors.js';
import { silentLogger, type XgLogger } from './log.js';
import { DEFAULT_ADDRESSES_PER_REQUEST, XgLists } from './lists.js';
import { HostMembership, MANAGED_DESCRIPTION, groupFamilyError, type Membership } from './membership.js';
import { XgObjects } from './objects.js';
import { XgTransport, type XgTransportOptions } from './transport.js';
import type { RawGroup } from './xml.js';

export interface XgClientOptions extends XgTransportOptions {
  /** Marks the objects this sidecar owns (host names start with it). */
  hostPrefix: string;
  /** Lists mode: addresses per request across its lists (lists per request is `batchSize`). */
  listAddressesPerRequest?: number;
}

export class XgClient implements FirewallPort {
  private readonly transport: XgTransport;
  private readonly objects: XgObjects;
  private readonly membership: Membership;
  private readonly lists: XgLists;
  private readonly log: XgLogger;
  private readonly prefix: string;
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(opts: XgClientOptions) {
    if (!opts.hostPrefix) throw new RangeError('hostPrefix must not be empty: it is what marks the objects this sidecar owns');
    this.log = opts.log ?? silentLogger;
    this.prefix = opts.hostPrefix;
    this.transport = new XgTransport(opts);
    this.objects = new XgObjects(this.transport, opts.hostPrefix);
    this.membership = new HostMembership(this.objects, opts.hostPrefix, this.log);
    this.lists = new XgLists(this.transport, opts.hostPrefix, this.log, {
      listsPerRequest: Math.max(1, opts.batchSize ?? 50),
      addressesPerRequest: opts.listAddressesPerRequest ?? DEFAULT_ADDRESSES_PER_REQUEST,
    });
  }

  checkLogin(): Promise<void> {
    return this.serial(async () => {
      await this.transport.call('login', []);
    });
  }

  ensureGroup(group: GroupRef): Promise<void> {
    return this.serial(async () => {
      const existing = await this.objects.group(group.name);
      if (existing) return this.checkFamily(existing, group);
      const res = await this.objects.createGroup({ name: group.name, description: MANAGED_DESCRIPTION, family: group.family });
      if (!res.error) {
        this.log.info(`created IP host group ${group.name} (${group.family})`);
        return;
      }
      // 502: created meanwhile (another sidecar, or our own timed-out attempt). Fine if the family is right.
      if (res.status?.code === 502) {
        const now = await this.objects.group(group.name);
        if (now) return this.checkFamily(now, group);
      }
      throw res.error;
    });
  }

  readGroup(group: GroupRef): Promise<GroupState> {
    return this.serial(async () => {
      const raw = await this.objects.group(group.name);
      if (!raw) return { exists: false, owned: new Set<string>(), foreign: 0 };
      const owned = await this.objects.ownedAddresses();
      const state: GroupState = { exists: true, owned: new Set(), foreign: 0 };
      for (const member of raw.members) {
        const address = owned.get(member);
        if (address !== undefined) state.owned.add(address);
        // Owned objects without one address (lists mode's IPLists) are ours, not foreign.
        else if (!isOwnedName(this.prefix, member)) state.foreign++;
      }
      return state;
    });
  }

  addToGroup(group: GroupRef, addresses: readonly string[]): Promise<void> {
    return this.serial(() => this.membership.add(group, addresses));
  }

  removeFromGroup(group: GroupRef, addresses: readonly string[]): Promise<void> {
    return this.serial(() => this.membership.remove(group, addresses));
  }

  listOwnedHosts(): Promise<OwnedHost[]> {
    return this.serial(async () => {
      const out: OwnedHost[] = [];
      for (const h of (await this.objects.ownedHosts()).values()) {
        const address = addressOfHost(h);
        if (address !== undefined) out.push({ name: h.name, address, family: h.family, groups: [...h.groups] });
      }
      return out;
    });
  }

  readLists(group: GroupRef): Promise<OwnedList[]> {
    return this.serial(() => this.lists.read(group));
  }

  writeLists(group: GroupRef, steps: readonly ListWrite[]): Promise<void> {
    return this.serial(() => this.lists.write(group, steps));
  }

  readRules(): Promise<FirewallRuleView[]> {
    return this.serial(() => readRules(this.transport));
  }

  /** Waits for the operation in progress; the dispatcher belongs to whoever built it. */
  async close(): Promise<void> {
    this.closed = true;
    await this.queue.catch(() => undefined);
  }

  private checkFamily(raw: RawGroup, group: GroupRef): void {
    const err = groupFamilyError(raw, group);
    if (err) throw err;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new XgTransportError('client is closed', { code: 'XG_CLOSED', retryable: false }));
    // Whole operations, not just requests, run one at a time: two interleaved read-modify-writes of
    // the same host would each resend a HostGroupList missing the other's group.
    const run = this.queue.then(fn, fn);
    // The queue must not hold the last result: a group read back holds every owned address, and
    // would stay in memory until the next operation (at 100,000 addresses, ~8 MB).
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }
}
