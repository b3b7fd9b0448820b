import { createHash } from 'node:crypto';

/**
 * The XG documents 60 characters for a name; a measured client found 50. Stay within the
 * smaller figure so a name that works on one firmware works on all.
 */
export const MAX_NAME_LENGTH = 50;

/**
 * Host object name for an address. `:` (IPv6) and `/` (CIDR) are mapped to `-` and `_`: the
 * reference could not confirm that the XG accepts them in names. Names that would exceed the
 * limit fall back to a hash; the address itself is always read back from the host's IPAddress
 * field, never parsed out of the name.
 */
export function hostName(prefix: string, address: string): string {
  const safe = address.replace(/:/g, '-').replace(/\//g, '_');
  const name = `${prefix}${safe}`;
  if (name.length <= MAX_NAME_LENGTH) return name;
  const hash = createHash('sha256').update(address).digest('hex');
  return `${prefix}h${hash.slice(0, Math.max(8, MAX_NAME_LENGTH - prefix.length - 1))}`;
}

export function isOwnedName(prefix: string, name: string): boolean {
  return prefix.length > 0 && name.startsWith(prefix);
}
