/**
 * Is each configured group actually dropped by the firewall? Read at start and then at every
 * resync interval (the same period as the pipeline's resync): the rules are read (read-only) per
 * firewall and judged by src/pipeline/enforcement.ts. A change is logged (warn when a group is not
 * enforced); the verdicts feed the status snapshot, hence status.json, the `group_enforced` metric
 * and /healthz (degraded, not failed: a restart would not fix a missing rule).
 */
import { timer, type SchedulerLike } from 'rxjs';
import type { Config } from '../config/index.js';
import type { StatusSnapshot } from '../metrics/status.js';
import { describeEnforcement, groupEnforcement, type GroupEnforcement } from '../pipeline/enforcement.js';
import type { Logger } from '../util/log.js';
import type { FirewallPort } from '../xg/port.js';
import type { Shutdown } from './shutdown.js';

export interface EnforcementOptions {
  config: Pick<Config, 'groups' | 'reconcile'>;
  ports: ReadonlyMap<string, FirewallPort>;
  scheduler: SchedulerLike;
  log: Pick<Logger, 'info' | 'warn'>;
}

export class EnforcementWatch {
  /** `${firewall}/${group}` → last verdict; absent while unknown (rules not read yet, or unreadable). */
  private readonly verdicts = new Map<string, GroupEnforcement>();
  private readonly unreadable = new Set<string>();
  private stopped = false;

  constructor(private readonly o: EnforcementOptions) {}

  /** Reads every firewall's rules once and judges its groups. Never throws: a failed read is logged. */
  async check(): Promise<void> {
    for (const [firewall, port] of this.o.ports) {
      const groups = this.o.config.groups
        .filter((g) => g.firewall === firewall)
        .flatMap((g) => (g.ipv6Name ? [g.name, g.ipv6Name] : [g.name]));
      if (groups.length === 0) continue;
      let rules;
      try {
        rules = await port.readRules();
        this.unreadable.delete(firewall);
      } catch (err) {
        // A read cut short by shutdown (the port closed under it) is no news.
        if (this.stopped) return;
        if (!this.unreadable.has(firewall)) {
          this.unreadable.add(firewall);
          this.o.log.warn(
            { firewall, err: (err as Error).message, code: (err as { code?: unknown }).code },
            'cannot read the firewall rules: whether the groups are enforced is unknown',
          );
        }
        continue;
      }
      for (const group of groups) this.judge(firewall, groupEnforcement(rules, group));
    }
  }

  stop(): void {
    this.stopped = true;
  }

  /** The snapshot with each group's verdict filled in. */
  apply(s: StatusSnapshot): StatusSnapshot {
    return {
      ...s,
      groups: s.groups.map((g) => {
        const v = this.verdicts.get(`${g.firewall}/${g.group}`);
        return v ? { ...g, enforced: v.enforced, enforcedBy: [...v.rules] } : g;
      }),
    };
  }

  private judge(firewall: string, e: GroupEnforcement): void {
    const key = `${firewall}/${e.group}`;
    const before = this.verdicts.get(key);
    this.verdicts.set(key, e);
    if (before && before.enforced === e.enforced && before.rules.join('\n') === e.rules.join('\n')) return;
    const fields = { firewall, group: e.group, rules: e.rules };
    if (e.enforced) this.o.log.info(fields, `group ${e.group} on ${firewall}: ${describeEnforcement(e)}`);
    else this.o.log.warn(fields, `group ${e.group} on ${firewall}: ${describeEnforcement(e)}; its bans have no effect`);
  }
}

/** Starts the watch: a check now, then one per resync interval; stopped by `shutdown`. */
export function watchEnforcement(o: EnforcementOptions, shutdown: Shutdown): EnforcementWatch {
  const watch = new EnforcementWatch(o);
  let running = false;
  const sub = timer(0, o.config.reconcile.resyncIntervalMs, o.scheduler).subscribe(() => {
    // A slow firewall must not stack reads up.
    if (running) return;
    running = true;
    void watch.check().finally(() => (running = false));
  });
  shutdown.add(() => {
    watch.stop();
    sub.unsubscribe();
  });
  return watch;
}
