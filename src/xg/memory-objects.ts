/** The in-memory fake's objects (memory.ts), shared with its lists unit (memory-lists.ts). */
import type { AddressFamily } from '../core/address.js';

export interface MemHost {
  name: string;
  /** The address of an IP/Network host; '' for an IPList host. */
  address: string;
  family: AddressFamily;
  groups: Set<string>;
  /** An IPList host's entries, as written (lists mode). */
  list?: string[];
}

export interface MemGroup {
  name: string;
  family: AddressFamily;
  members: Set<string>;
}

/** What the lists unit needs of the fake firewall. */
export interface MemObjects {
  readonly hosts: Map<string, MemHost>;
  readonly groups: Map<string, MemGroup>;
  changed(): void;
}
