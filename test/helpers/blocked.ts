// What a group blocks on the emulator, whichever objects hold it: the addresses of the IPList
// hosts and of the per-address IP/Network hosts in the group (issue 12: `run` packs lists by
// default, the one-shot commands and `objects: hosts` write per-address hosts). Tests about bans
// reaching the firewall assert on this, so they hold in both modes.
import type { EmulatorModel } from '../../src/emulator/index.js';
import { normalizeAddress } from '../../src/core/address.js';
import { addressOfHost } from '../../src/xg/address.js';

/** The group's blocked addresses and networks (canonical text), sorted. */
export function blockedBy(model: EmulatorModel, group: string): string[] {
  const out = new Set<string>();
  for (const m of model.groupMembers(group)) {
    const h = model.hostByName(m);
    if (!h) continue;
    if (h.hostType === 'IPList') {
      for (const a of (h.listOfIPAddresses ?? '').split(',')) if (a.trim() !== '') out.add(normalizeAddress(a.trim())?.ip ?? a.trim());
      continue;
    }
    const a = addressOfHost({
      hostType: h.hostType,
      ...(h.ipAddress !== undefined ? { ipAddress: h.ipAddress } : {}),
      ...(h.subnet !== undefined ? { subnet: h.subnet } : {}),
    });
    if (a !== undefined) out.add(a);
  }
  return [...out].sort();
}
