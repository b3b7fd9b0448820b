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
  close(): Promise<void>;
}
