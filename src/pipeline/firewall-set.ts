/**
 * The firewall side of the sidecar: one Reconciler per firewall named in the group mappings (so an
 * outage of one never delays another), and the routing of desired-state changes to the reconciler
 * that owns each group.
 */
import type { FirewallPort } from '../xg/port.js';
import type { ChangeSet } from './pending.js';
import { Reconciler, type FirewallStatus, type GroupStatus, type ReconcilerOptions } from './reconciler.js';
import type { GroupTarget } from './routing.js';
import type { ListModeOptions } from './list-sync.js';

/** How a firewall stores the blocked addresses (issue 12). Absent: one host per address, as before. */
export type ObjectsMode = { objects: 'lists'; lists: ListModeOptions } | { objects: 'hosts' };

export interface FirewallSetOptions extends Omit<ReconcilerOptions, 'firewall' | 'port' | 'targets'> {
  /** Every group the mappings name; their firewalls get one reconciler each. */
  targets: readonly GroupTarget[];
  /** One port per firewall id named in `targets`. */
  ports: ReadonlyMap<string, FirewallPort>;
  /** Per firewall id; a firewall absent here keeps per-address hosts and leaves lists alone. */
  modes?: ReadonlyMap<string, ObjectsMode>;
}

/** What the desired state is read from at start-up (the model). */
export interface DesiredSource {
  desired: ReadonlyMap<string, Iterable<string>>;
  held: ReadonlyMap<string, Iterable<string>>;
}

export class FirewallSet {
  private readonly reconcilers = new Map<string, Reconciler>();
  /** group key → firewall id */
  private readonly firewallOf = new Map<string, string>();

  constructor(private readonly o: FirewallSetOptions) {
    const { targets, ports, modes, ...shared } = o;
    for (const t of targets) {
      this.firewallOf.set(t.key, t.firewall);
      if (this.reconcilers.has(t.firewall)) continue;
      const port = ports.get(t.firewall);
      if (!port) throw new Error(`no firewall port for "${t.firewall}" (named in a group mapping)`);
      const own = targets.filter((x) => x.firewall === t.firewall);
      const mode = modes?.get(t.firewall);
      // Lists mode packs; hosts mode named explicitly also retires lists a lists-mode run left.
      const objects = mode?.objects === 'lists' ? { lists: mode.lists } : mode ? { retireLists: true } : {};
      this.reconcilers.set(t.firewall, new Reconciler({ ...shared, ...objects, firewall: t.firewall, port, targets: own }));
    }
  }

  /** Start-up: the full desired state of every group (before start(): the first pass repairs against it). */
  setDesired(source: DesiredSource): void {
    for (const t of this.o.targets)
      this.reconcilerOf(t.key)?.setDesired(t.key, source.desired.get(t.key) ?? [], source.held.get(t.key) ?? []);
  }

  start(): void {
    for (const r of this.reconcilers.values()) r.start();
  }

  /**
   * The changes of a saved (or unsaveable) snapshot: each group's reconciler takes its own and,
   * with `kick`, runs soon. `release`: the snapshot holds the complete desired state, so removals
   * held since start-up may go ahead.
   */
  handOver(changes: ChangeSet, release: boolean, kick: boolean): void {
    const touched = new Set<Reconciler>();
    for (const [key, byAddress] of changes) {
      const r = this.reconcilerOf(key);
      if (!r) continue;
      r.updateDesired(key, byAddress);
      touched.add(r);
    }
    if (kick) for (const r of touched) r.kick();
    if (release) for (const r of this.reconcilers.values()) r.releaseRemovals();
  }

  /** Every firewall equals its desired state (as far as the reconcilers know). */
  get converged(): boolean {
    for (const r of this.reconcilers.values()) if (!r.converged) return false;
    return true;
  }

  status(): { firewall: FirewallStatus; groups: GroupStatus[] }[] {
    return [...this.reconcilers.values()].map((r) => r.status());
  }

  /** In-flight requests are let finish. */
  async stop(): Promise<void> {
    await Promise.all([...this.reconcilers.values()].map((r) => r.stop()));
  }

  private reconcilerOf(key: string): Reconciler | undefined {
    return this.reconcilers.get(this.firewallOf.get(key) ?? '');
  }
}
