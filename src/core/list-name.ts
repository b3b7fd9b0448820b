/**
 * Names of the owned IPList hosts of a group (lists mode, issue 12). Pure: the planner
 * (src/pipeline/packing.ts) and the firewall adapters (src/xg) both need it, so it lives in core.
 */
import { createHash } from 'node:crypto';

/** The practical IPList ceiling of real firmware (reference §3.1, §11.5). */
export const IPLIST_MAX_ADDRESSES = 1000;
/** The smaller measured name limit (reference §6.2): a name that fits works on every firmware. */
export const LIST_NAME_MAX = 50;
/** The documented name limit; no list name is ever longer. */
export const XG_NAME_MAX = 60;
const MARK = '.list';
const MAX_SHARD_DIGITS = 6;
export const MAX_SHARD = 10 ** MAX_SHARD_DIGITS - 1;
const HASH_LEN = 8;

export interface ListNamer {
  /** What every list name of this group starts with (`${prefix}${slug}.list`): a Get filter, not proof. */
  readonly stem: string;
  /** The list name for a shard number (1 … MAX_SHARD). */
  name(shard: number): string;
  /** The shard number when `name` is one of this group's list names, else undefined. */
  shardOf(name: string): number | undefined;
}

/**
 * `${prefix}${slug}.list${shard}`. The slug is the group name itself when it is lower-case ASCII
 * (`a-z 0-9 _ -`) and fits; otherwise a lower-case ASCII rendering, cut to fit, plus a hash of the
 * full name, so two groups never share list names (not even on firmware that ignores case). The
 * slug does not depend on the shard, so every shard of one group parses back to it. `.list`
 * cannot occur in a per-address host name (`prefix` + address characters or `h` + hex), so lists
 * and per-address hosts of one prefix never collide.
 */
export function listNamer(prefix: string, group: string, maxLength = LIST_NAME_MAX): ListNamer {
  if (!(maxLength <= XG_NAME_MAX)) throw new RangeError(`list names must stay within ${XG_NAME_MAX} characters, asked for ${maxLength}`);
  const budget = maxLength - prefix.length - MARK.length - MAX_SHARD_DIGITS;
  if (budget < HASH_LEN + 2) throw new RangeError(`host prefix "${prefix}" leaves no room for list names within ${maxLength} characters`);
  const slug = groupSlug(group, budget);
  const head = `${prefix}${slug}${MARK}`;
  return {
    stem: head,
    name(shard) {
      if (!Number.isInteger(shard) || shard < 1 || shard > MAX_SHARD) throw new RangeError(`list shard out of range: ${shard}`);
      return `${head}${shard}`;
    },
    shardOf(name) {
      if (!name.startsWith(head)) return undefined;
      const rest = name.slice(head.length);
      return /^[1-9]\d{0,5}$/.test(rest) ? Number(rest) : undefined;
    },
  };
}

function groupSlug(group: string, budget: number): string {
  if (/^[a-z0-9_-]+$/.test(group) && group.length <= budget) return group;
  const hash = createHash('sha256').update(group, 'utf8').digest('hex').slice(0, HASH_LEN);
  // NFKD then dropping marks keeps "Blocké" readable as "blocke"; anything else becomes '_'.
  const ascii = group
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '_');
  return `${ascii.slice(0, budget - HASH_LEN - 1)}-${hash}`;
}
