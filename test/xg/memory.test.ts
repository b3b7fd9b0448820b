import { familyOf } from '../../src/xg/address.js';
import { MemoryFirewall } from '../../src/xg/memory.js';
import { runPortContract } from './contract.js';

runPortContract('in-memory fake', async () => {
  const fw = new MemoryFirewall();
  return {
    port: fw.port('f2b_'),
    otherPort: fw.port('other_f2b_'),
    seedGroup: async (name, family) => fw.addGroup(name, family),
    seedForeign: async ({ name, address, groups = [] }) => fw.addForeignHost(name, address, familyOf(address) ?? 'IPv4', groups),
    members: async (group) => fw.memberAddresses(group),
    hostNames: async () => [...fw.hosts.keys()].sort(),
    seedList: async ({ name, entries, family, groups = [] }) => {
      for (const g of fw.hosts.get(name)?.groups ?? []) fw.groups.get(g)?.members.delete(name);
      fw.addListHost(name, entries, family, groups);
    },
    blockedNow: (group) => fw.blockedBy(group),
    onWrite: (fn) => {
      fw.onChange = fn;
    },
    teardown: async () => {},
  };
});
