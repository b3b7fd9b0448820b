/**
 * `plan` and the start of `run --dry-run`: the log read to its end as `run` would read it (from the
 * state's checkpoint; without a state, from where a first start reads), through the same tailer and
 * parser, as fast as it can be read (no batching window); then every group read once and diffed
 * (src/pipeline/plan.ts). Writes nothing: the state is peeked (no lock), the ports are only read.
 */
import { stat } from 'node:fs/promises';
import {
  EMPTY,
  Subject,
  asyncScheduler,
  lastValueFrom,
  takeUntil,
  takeWhile,
  tap,
  timeout,
  type MonoTypeOperatorFunction,
  type SchedulerLike,
} from 'rxjs';
import type { Checkpoint } from '../core/checkpoint.js';
import type { PipelineInput } from '../pipeline/sidecar.js';
import type { Config } from '../config/index.js';
import { jailMatches } from '../core/glob.js';
import { makeNeverBlock } from '../core/network.js';
import { stateCodec } from '../pipeline/persisted.js';
import { groupPlan, PlanModel, type GroupPlan } from '../pipeline/plan.js';
import { isLogPattern, tailFile, tailSources } from '../tail/index.js';
import type { Logger } from '../util/log.js';
import type { FirewallPort } from '../xg/port.js';
import { toPipelineInput } from './log-input.js';
import { peekState } from './state.js';

/** A backlog whose last bytes never end a line (fail2ban mid-write) is ended after this quiet time. */
export const PLAN_IDLE_MS = 2000;

export interface PlanOptions {
  config: Config;
  ports: ReadonlyMap<string, FirewallPort>;
  log: Logger;
  scheduler?: SchedulerLike;
}

export interface PlanResult {
  groups: GroupPlan[];
  /** Where reading started: the state's checkpoint, or the config's startAt on a first start. */
  from: 'checkpoint' | 'beginning' | 'end';
  lines: number;
}

const noMetrics = { linesRead() {}, event() {}, lineRejected() {} };

export async function buildPlan(o: PlanOptions): Promise<PlanResult> {
  const { config, log } = o;
  const scheduler = o.scheduler ?? asyncScheduler;
  const now = scheduler.now();
  const loaded = await peekState(config.stateDir, stateCodec, new Date(now), log);
  const initial = loaded.source === 'empty' ? undefined : loaded.state;
  const model = new PlanModel(
    { groups: config.groups, neverBlock: makeNeverBlock(config.neverBlock), jailMatches, suspend: config.suspend },
    initial,
    now,
  );
  const checkpoint = initial?.checkpoint;
  const startAt = config.log.startAt;
  let lines = 0;
  const apply = tap((i: PipelineInput) => {
    lines++;
    if (i.event) model.apply(i.event, i.source);
  });
  if (isLogPattern(config.log.path)) {
    const feeds = initial?.checkpoints ?? {};
    await readFleet(config.log.path, new Map(Object.entries(feeds)), startAt, scheduler, log, apply);
    return { groups: await diff(model, o.ports), from: Object.keys(feeds).length > 0 ? 'checkpoint' : startAt, lines };
  }
  const st = await stat(config.log.path).catch(() => undefined);
  // Nothing to read: no file, or a first start at the end of it.
  if (st && st.size > 0 && (checkpoint !== undefined || startAt === 'beginning')) {
    // Applied as read: a year of log never sits in memory.
    await lastValueFrom(
      tailFile({ path: config.log.path, ...(checkpoint ? { checkpoint } : {}), startAt, waitForFile: false, watch: false, scheduler }).pipe(
        toPipelineInput({ metrics: noMetrics, log, now: () => scheduler.now() }),
        // Done with the line that reaches the file's size at start (later lines are the live log's).
        takeWhile((i) => !(i.checkpoint && i.checkpoint.ino === st.ino && i.checkpoint.offset >= st.size), true),
        timeout({ each: PLAN_IDLE_MS, with: () => EMPTY, scheduler }),
        apply,
      ),
      { defaultValue: undefined },
    );
  }
  return { groups: await diff(model, o.ports), from: checkpoint ? 'checkpoint' : startAt, lines };
}

/**
 * A fleet glob, read as `run` reads it (each file from its checkpoint; files new since the state
 * from their first line) until every file present has been read to its end once.
 */
async function readFleet(
  pattern: string,
  checkpoints: ReadonlyMap<string, Checkpoint>,
  startAt: 'end' | 'beginning',
  scheduler: SchedulerLike,
  log: Logger,
  apply: MonoTypeOperatorFunction<PipelineInput>,
): Promise<void> {
  const caughtUp$ = new Subject<void>();
  await lastValueFrom(
    tailSources({ pattern, checkpoints, startAt, scheduler, watch: false, onCaughtUp: () => caughtUp$.next() }).pipe(
      toPipelineInput({ metrics: noMetrics, log, now: () => scheduler.now() }),
      takeUntil(caughtUp$),
      timeout({ each: PLAN_IDLE_MS, with: () => EMPTY, scheduler }),
      apply,
    ),
    { defaultValue: undefined },
  );
}

async function diff(model: PlanModel, ports: ReadonlyMap<string, FirewallPort>): Promise<GroupPlan[]> {
  const groups: GroupPlan[] = [];
  for (const t of model.finish()) {
    const port = ports.get(t.firewall);
    if (!port) throw new Error(`no firewall ${t.firewall} for group ${t.group.name}`);
    groups.push(groupPlan(t, model.desired(t.key), model.held(t.key), await port.readGroup(t.group)));
  }
  return groups;
}

/** How many addresses of each list the text plan shows. */
export const PLAN_EXAMPLES = 5;

const examples = (list: readonly string[]): string =>
  list.slice(0, PLAN_EXAMPLES).join(', ') + (list.length > PLAN_EXAMPLES ? `, … and ${list.length - PLAN_EXAMPLES} more` : '');

/** The plan for a person: one line per group with counts, a few examples, and a summary line. */
export function formatPlan(p: PlanResult, logPath: string): string[] {
  const from =
    p.from === 'checkpoint'
      ? "the state's checkpoint"
      : p.from === 'beginning'
        ? 'its beginning (no state yet)'
        : 'its end (no state yet, startAt: end)';
  const out = [`plan: read ${p.lines} line(s) of ${logPath} from ${from}`];
  let changes = 0;
  for (const g of p.groups) {
    changes += g.add.length + g.remove.length;
    const missing = g.missing ? ' (missing: would be created)' : '';
    out.push(
      `group ${g.group} (${g.family}) on ${g.firewall}: add ${g.add.length}, remove ${g.remove.length}, unchanged ${g.unchanged}${missing}`,
    );
    if (g.add.length > 0) out.push(`  add: ${examples(g.add)}`);
    if (g.remove.length > 0) out.push(`  remove: ${examples(g.remove)}`);
  }
  const touched = p.groups.filter((g) => g.missing || g.add.length > 0 || g.remove.length > 0).length;
  out.push(
    touched === 0 ? 'plan: nothing would change' : `plan: ${changes} address change(s) in ${touched} of ${p.groups.length} group(s)`,
  );
  return out;
}

/** The plan for a machine: every address. */
export function planJson(p: PlanResult): {
  groups: { firewall: string; group: string; family: string; add: string[]; remove: string[]; unchanged: number; missing: boolean }[];
} {
  return {
    groups: p.groups.map((g) => ({
      firewall: g.firewall,
      group: g.group,
      family: g.family,
      add: g.add,
      remove: g.remove,
      unchanged: g.unchanged,
      missing: g.missing,
    })),
  };
}
