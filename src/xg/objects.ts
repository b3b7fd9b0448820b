/**
 * The firewall's objects as this sidecar sees them, over the transport: owned hosts (carrying
 * the host prefix, never system hosts) read back by name or by address, groups read by name, and
 * writes of hosts and groups in batches. No decisions about membership (membership.ts) here.
 */
import { isOwnedName } from './naming.js';
import { addressOfHost } from './address.js';
import { ipHostGroupXml, ipHostXml, removeXml, type GroupFields, type HostFields } from './request-xml.js';
import type { WriteResult, XgTransport } from './transport.js';
import { decodeGroup, decodeHost, text, type RawGroup, type RawHost } from './xml.js';
import type { HostStore } from './membership.js';

/** Name queries per Get when reading hosts back by name (each is one small entity element). */
const NAMES_PER_GET = 500;

export class XgObjects implements HostStore {
  constructor(
    private readonly transport: XgTransport,
    private readonly prefix: string,
  ) {}

  /**
   * Owned hosts by name; with `only`, just those names. Entities are decoded as they are parsed
   * and dropped unless kept: the full list is one answer of every owned host (100,000: 26 MB).
   */
  async ownedHosts(only?: ReadonlySet<string>): Promise<Map<string, RawHost>> {
    const out = new Map<string, RawHost>();
    const keep = (f: Record<string, unknown>): void => {
      if (only && !only.has(text(f['Name']) ?? '')) return;
      const h = this.owned(f);
      if (h) out.set(h.name, h);
    };
    if (!only) {
      await this.transport.forEach('IPHost', this.prefixFilter(), keep);
      return out;
    }
    // Just these names, one query each (issue 12: an unban batch reads its own hosts, never the
    // whole owned list, so N unbans read O(N) objects whatever the group's size).
    const names = [...only];
    for (let i = 0; i < names.length; i += NAMES_PER_GET) {
      const filters = names.slice(i, i + NAMES_PER_GET).map((value) => ({ key: 'Name', criteria: '=' as const, value }));
      await this.transport.forEachOf('IPHost', filters, keep);
    }
    return out;
  }

  /** Owned host name → the address it holds: what reading a group back needs, and no more. */
  async ownedAddresses(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    await this.transport.forEach('IPHost', this.prefixFilter(), (f) => {
      const h = this.owned(f);
      const address = h && addressOfHost(h);
      if (h && address !== undefined) out.set(h.name, address);
    });
    return out;
  }

  async group(name: string): Promise<RawGroup | undefined> {
    let found: RawGroup | undefined;
    await this.transport.forEach('IPHostGroup', { key: 'Name', criteria: '=', value: name }, (f) => {
      const g = decodeGroup(f);
      if (g?.name === name) found ??= g;
    });
    return found;
  }

  async createGroup(g: GroupFields): Promise<WriteResult> {
    const results = await this.transport.write('add', 'IPHostGroup', [{ name: g.name, node: ipHostGroupXml(g) }]);
    // write() gives one result per item.
    return results[0] as WriteResult;
  }

  createHosts(hosts: readonly HostFields[]): Promise<WriteResult[]> {
    return this.transport.write(
      'add',
      'IPHost',
      hosts.map((h) => ({ name: h.name, node: ipHostXml(h) })),
    );
  }

  updateHosts(hosts: readonly HostFields[]): Promise<WriteResult[]> {
    return this.transport.write(
      'update',
      'IPHost',
      hosts.map((h) => ({ name: h.name, node: ipHostXml(h) })),
    );
  }

  removeHosts(names: readonly string[]): Promise<WriteResult[]> {
    return this.transport.write(
      'remove',
      'IPHost',
      names.map((name) => ({ name, node: removeXml('IPHost', name) })),
    );
  }

  private prefixFilter() {
    return { key: 'Name', criteria: 'like' as const, value: this.prefix };
  }

  /** The host in a Get answer's fields when it is one of ours. */
  private owned(f: Record<string, unknown>): RawHost | undefined {
    const h = decodeHost(f);
    // Filters may be ignored by firmware (answer: everything), so ownership is decided here.
    return h && isOwnedName(this.prefix, h.name) && h.hostType !== 'System Host' ? h : undefined;
  }
}
