/**
 * The one firewall port. Adapters: the undici XML API client (src/xg/client.ts), the dry-run
 * printer (src/xg/dry-run.ts) and the in-memory fake (src/xg/memory.ts). One contract suite
 * (test/xg/contract.ts) runs against the fake and against the HTTPS emulator so they cannot drift.
 *
 * Addresses are normalised strings as produced by src/parser (an IPv4/IPv6 address, or a network
 * in CIDR form). Host objects are named `${hostPrefix}${nameSafe(address)}`; only such hosts are
 * ever created, changed or deleted, and a group's members that do not carry the prefix are never
 * touched.
 */
import type { AddressFamily } from '../core/address.js';

export interface GroupRef {
  /** The IP host group's name on the firewall. */
  name: string;
  family: AddressFamily;
}

export interface GroupState {
  exists: boolean;
  /** Addresses of owned hosts (carrying this sidecar's prefix) that are members of the group. */
  owned: Set<string>;
  /** How many members the group has that this sidecar does not own (never touched). */
  foreign: number;
}

export interface OwnedHost {
  name: string;
  address: string;
  family: AddressFamily;
  /** Groups the host is a member of (all of them, owned by this sidecar's config or not). */
  groups: string[];
}

/** One owned IPList host of a group (lists mode), named by core's list namer for this group. */
export interface OwnedList {
  name: string;
  /** Shard number parsed from the name (1, 2, ...). */
  shard: number;
  /** Canonical address text (src/core/address.ts), in the list's order. */
  addresses: string[];
  /** Member of the group? (a crash or a hand edit can leave one outside) */
  member: boolean;
}

/** One step of a list plan (src/pipeline/packing.ts). */
export type ListWrite =
  | { op: 'create' | 'update'; name: string; addresses: readonly string[] } // full content; in the group afterwards
  | { op: 'leave'; name: string; addresses: readonly string[] } // content unchanged, out of the group
  | { op: 'delete'; name: string };

/**
 * A firewall rule as read back (rules are only ever read): enough to tell whether a group is
 * dropped. Network names are as the firewall spells them; an empty list means "Any".
 */
export interface FirewallRuleView {
  name: string;
  enabled: boolean;
  /** Accept | Drop | Reject as the firewall writes it (other values are kept, never guessed). */
  action: string;
  sourceNetworks: string[];
  destinationNetworks: string[];
}

export interface FirewallPort {
  /** Credentials and API access check (a Login-only request). */
  checkLogin(): Promise<void>;
  /** Create the group with the right IP family if it is missing; never deletes or rewrites it. */
  ensureGroup(group: GroupRef): Promise<void>;
  readGroup(group: GroupRef): Promise<GroupState>;
  /** Make every address a member of the group (creating owned hosts as needed); idempotent. */
  addToGroup(group: GroupRef, addresses: readonly string[]): Promise<void>;
  /** Take the addresses out of the group, and delete each owned host that is then in no group; idempotent. */
  removeFromGroup(group: GroupRef, addresses: readonly string[]): Promise<void>;
  listOwnedHosts(): Promise<OwnedHost[]>;
  /** Lists mode: this group's owned IPList hosts (members or not). One read, whatever the group's size. */
  readLists(group: GroupRef): Promise<OwnedList[]>;
  /**
   * Lists mode: the steps in order, in as few requests as fit. Throws on the first failed step (XgError
   * with the XG code); steps before it may have landed, so the caller re-reads the lists and plans again.
   */
  writeLists(group: GroupRef, steps: readonly ListWrite[]): Promise<void>;
  /** Every firewall rule (read-only; `check` and the resync tell whether each group is enforced). */
  readRules(): Promise<FirewallRuleView[]>;
  close(): Promise<void>;
}
