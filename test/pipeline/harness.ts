// Deterministic time for the Promise-based port: a VirtualTimeScheduler advanced action by action,
// letting the port's promise callbacks run (setImmediate drains microtasks; nothing waits on real time).
import { VirtualTimeScheduler } from 'rxjs';
import { MemoryFirewall } from '../../src/xg/memory.js';
import type { FirewallPort } from '../../src/xg/port.js';
import type { PipelineLogger } from '../../src/pipeline/log.js';
import { createSidecar, type PersistedState, type Sidecar, type SidecarOptions, type StateSink } from '../../src/pipeline/sidecar.js';
import type { GroupMapping } from '../../src/pipeline/routing.js';
import type { Checkpoint } from '../../src/core/checkpoint.js';

export class VirtualClock {
  readonly scheduler = new VirtualTimeScheduler();

  get now(): number {
    return this.scheduler.now();
  }

  /** Lets every settled promise continuation run. */
  async settle(): Promise<void> {
    for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
  }

  async advanceTo(t: number): Promise<void> {
    for (;;) {
      await this.settle();
      const next = this.scheduler.actions[0];
      if (!next || next.delay > t) break;
      this.scheduler.maxFrames = next.delay;
      this.scheduler.flush();
    }
    if (this.scheduler.frame < t) this.scheduler.frame = t;
    await this.settle();
  }

  advance(ms: number): Promise<void> {
    return this.advanceTo(this.now + ms);
  }
}

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  obj: Record<string, unknown>;
  msg: string;
}

export function recordingLogger(): PipelineLogger & { entries: LogEntry[]; at(level: LogEntry['level']): LogEntry[] } {
  const entries: LogEntry[] = [];
  const rec =
    (level: LogEntry['level']) =>
    (obj: object, msg: string): void => {
      entries.push({ level, obj: obj as Record<string, unknown>, msg });
    };
  return {
    entries,
    at: (level) => entries.filter((e) => e.level === level),
    debug: rec('debug'),
    info: rec('info'),
    warn: rec('warn'),
    error: rec('error'),
  };
}

/** A MemoryFirewall port that writes every call into a shared journal (for ordering checks). */
export function journaledPort(fw: MemoryFirewall, name: string, journal: string[], times: number[], now: () => number): FirewallPort {
  const port = fw.port('f2b_');
  const note = (s: string): void => {
    journal.push(`${name} ${s}`);
    times.push(now());
  };
  return {
    checkLogin: () => port.checkLogin(),
    ensureGroup: (x) => (note(`ensure ${x.name}`), port.ensureGroup(x)),
    readGroup: (x) => (note(`read ${x.name}`), port.readGroup(x)),
    addToGroup: (x, a) => (note(`add ${x.name} ${a.join(',')}`), port.addToGroup(x, a)),
    removeFromGroup: (x, a) => (note(`remove ${x.name} ${a.join(',')}`), port.removeFromGroup(x, a)),
    listOwnedHosts: () => port.listOwnedHosts(),
    readLists: (x) => (note(`readLists ${x.name}`), port.readLists(x)),
    writeLists: (x, s) => (note(`writeLists ${x.name} ${s.map((w) => `${w.op}:${w.name}`).join(',')}`), port.writeLists(x, s)),
    readRules: () => port.readRules(),
    close: () => port.close(),
  };
}

/** Journals every save; passes it on to a real sink when given (whose I/O `io()` awaits). */
export class RecordingSink implements StateSink {
  readonly saved: PersistedState[] = [];
  failWith: Error | undefined;
  private inflight: Promise<unknown>[] = [];
  constructor(
    private readonly journal: string[],
    private readonly times: number[],
    private readonly now: () => number,
    private readonly inner?: StateSink,
  ) {}
  async save(state: PersistedState): Promise<void> {
    this.journal.push(`save ${state.checkpoint?.offset ?? '-'}${this.failWith ? ' FAILED' : ''}`);
    this.times.push(this.now());
    if (this.failWith) throw this.failWith;
    if (this.inner) {
      const p = this.inner.save(state);
      this.inflight.push(p.catch(() => undefined));
      await p;
    }
    this.saved.push(JSON.parse(JSON.stringify(state)) as PersistedState);
  }
  /** Waits for the real sink's file I/O started so far. */
  async io(): Promise<void> {
    const all = this.inflight;
    this.inflight = [];
    await Promise.all(all);
  }
  get last(): PersistedState | undefined {
    return this.saved.at(-1);
  }
}

export function cp(offset: number): Checkpoint {
  return { path: '/var/log/fail2ban.log', dev: 1, ino: 2, offset, head: 'abc' };
}

export const DEFAULT_GROUPS: GroupMapping[] = [{ firewall: 'fw1', name: 'f2b-v4', ipv6Name: 'f2b-v6', jails: ['*'] }];

export interface Harness {
  clock: VirtualClock;
  sidecar: Sidecar;
  fws: Map<string, MemoryFirewall>;
  fw: MemoryFirewall;
  journal: string[];
  /** Virtual time of each journal entry. */
  times: number[];
  sink: RecordingSink;
  log: ReturnType<typeof recordingLogger>;
  /** Journal entries that changed a firewall (adds/removes), from index `since`. */
  writes(since?: number): string[];
  /** Same, prefixed with their virtual time: `1000 fw1 add g a,b`. */
  timedWrites(since?: number): string[];
}

export interface HarnessOptions extends Partial<Omit<SidecarOptions, 'ports' | 'sink' | 'scheduler' | 'log'>> {
  firewalls?: string[];
  /** Reuse firewalls (a restarted sidecar facing the same boxes). */
  fws?: Map<string, MemoryFirewall>;
  /** Start the virtual clock here (a later process). */
  startAt?: number;
  /** Replace a firewall's port (fault injection). */
  wrapPort?: (name: string, port: FirewallPort) => FirewallPort;
  /** A real sink behind the recording one. */
  store?: StateSink;
}

export function harness(o: HarnessOptions = {}): Harness {
  const clock = new VirtualClock();
  clock.scheduler.frame = o.startAt ?? 0;
  const journal: string[] = [];
  const times: number[] = [];
  const now = (): number => clock.now;
  const fws = o.fws ?? new Map<string, MemoryFirewall>();
  for (const name of o.firewalls ?? ['fw1']) if (!fws.has(name)) fws.set(name, new MemoryFirewall());
  const wrap = o.wrapPort ?? ((_n: string, p: FirewallPort) => p);
  const ports = new Map([...fws].map(([n, f]) => [n, wrap(n, journaledPort(f, n, journal, times, now))] as const));
  const sink = new RecordingSink(journal, times, now, o.store);
  const log = recordingLogger();
  const { firewalls: _f, fws: _w, startAt: _s, wrapPort: _p, store: _t, ...rest } = o;
  const sidecar = createSidecar({
    groups: DEFAULT_GROUPS,
    neverBlock: () => false,
    random: () => 0.5,
    ...rest,
    // Most tests here are about the window; the quiet-period flush is tested on its own
    // (batch.test.ts, sidecar.test.ts 'quiet period').
    batch: { leading: false, ...rest.batch },
    ports,
    sink,
    scheduler: clock.scheduler,
    log,
  });
  return {
    clock,
    sidecar,
    fws,
    fw: fws.values().next().value!,
    journal,
    times,
    sink,
    log,
    writes: (since = 0) => journal.slice(since).filter((l) => / (add|remove) /.test(l)),
    timedWrites: (since = 0) =>
      journal
        .map((l, i) => `${times[i]} ${l}`)
        .slice(since)
        .filter((l) => / (add|remove) /.test(l)),
  };
}
