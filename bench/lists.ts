/**
 * The sidecar at the firewall's own pace: the emulator with the realistic profile (writes
 * 6 ± 1.5 s, reads 1 ± 0.25 s, one request at a time, seeded jitter) and the sidecar as a real
 * child process, for the packed-lists targets of issue 12: 10,000-ban and 10,000-unban bursts,
 * a 100,000-ban burst and a lone ban after a quiet period. Reports requests, objects read back,
 * objects in the group, time, RSS, and the one-process-per-ban figure at the same latency.
 *
 *   node --import tsx bench/lists.ts [--scenarios ban:10000,unban:10000,ban:100000,lone]
 *        [--objects lists|hosts] [--list-size N] [--profile realistic|fast] [--seed N]
 *
 * `--objects` / `--list-size` are written into the firewall's config only when given (the
 * schema's default is lists of 1000). The generic pieces (addresses, log lines, the build, the
 * config file) come from bench/lib.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROFILES, startEmulator, type Emulator, type EmulatorModel, type ProfileName } from '../src/emulator/index.js';
import { listNamer } from '../src/core/list-name.js';
import { planLists } from '../src/pipeline/packing.js';
import { hostName } from '../src/xg/naming.js';
import { MAIN, PASSWORD, PASSWORD_ENV, PREFIX, USER, actionLine, benchConfig, benchIp, benchStart, fmtMs, sleep } from './lib.js';

const GROUP = 'f2b_lists_bench';

// ---- pure helpers (tested in test/bench/lists.test.ts) -----------------------------------------

export interface OneShot {
  requests: number;
  writes: number;
  reads: number;
  ms: number;
}

/**
 * The original tool's way at the same firewall pace, computed (not run): one write per ban; a
 * read and two writes per unban (take the host out of the group, then delete it), one after
 * another. `writeMs` / `readMs` are the mean latencies the emulator actually injected.
 */
export function oneShotCost(kind: 'ban' | 'unban', n: number, writeMs: number, readMs: number): OneShot {
  const writes = kind === 'ban' ? n : 2 * n;
  const reads = kind === 'ban' ? 0 : n;
  return { requests: writes + reads, writes, reads, ms: writes * writeMs + reads * readMs };
}

/** Addresses an owned member of the group blocks: a per-address host's IPAddress or an IPList's entries. */
export function blockedBy(model: EmulatorModel, group: string): Set<string> {
  const out = new Set<string>();
  for (const name of model.groupMembers(group)) {
    const h = model.hostByName(name);
    if (!h) continue;
    if (h.ipAddress !== undefined) out.add(h.ipAddress);
    for (const a of h.listOfIPAddresses?.split(',') ?? []) if (a !== '') out.add(a);
  }
  return out;
}

// ---- the bed -------------------------------------------------------------------------------------

export interface Options {
  scenarios: { kind: 'ban' | 'unban' | 'lone'; n: number }[];
  objects?: 'lists' | 'hosts';
  listSize?: number;
  profile: ProfileName;
  seed: number;
}

export function parseArgs(argv: readonly string[]): Options {
  const val = (name: string) => {
    const i = argv.indexOf(name);
    return i < 0 ? undefined : argv[i + 1];
  };
  const scenarios = (val('--scenarios') ?? 'ban:10000,unban:10000,ban:100000,lone').split(',').map((s) => {
    const [kind, n] = s.split(':');
    if (kind !== 'ban' && kind !== 'unban' && kind !== 'lone') throw new Error(`unknown scenario ${s}`);
    const count = kind === 'lone' ? 1 : Number(n);
    if (!Number.isInteger(count) || count < 1) throw new Error(`scenario ${s}: needs a positive count (ban:10000)`);
    return { kind, n: count } as const;
  });
  const objects = val('--objects');
  if (objects !== undefined && objects !== 'lists' && objects !== 'hosts') throw new Error('--objects: lists or hosts');
  const profile = val('--profile') ?? 'realistic';
  if (profile !== 'realistic' && profile !== 'fast') throw new Error('--profile: realistic or fast');
  const listSize = val('--list-size');
  return {
    scenarios,
    ...(objects !== undefined ? { objects } : {}),
    ...(listSize !== undefined ? { listSize: Number(listSize) } : {}),
    profile,
    seed: Number(val('--seed') ?? 1),
  };
}

export interface Bed {
  emu: Emulator;
  dir: string;
  logPath: string;
  configPath: string;
  /** performance.now() of the latest committed model write (emulator side). */
  lastCommit(): number;
  close(): Promise<void>;
}

/** Emulator-side commit stamps: the model's writes run right before the emulator answers. */
function stampCommits(model: EmulatorModel): () => number {
  let last = 0;
  const m = model as unknown as Record<string, (...a: unknown[]) => { code: number }>;
  for (const name of ['setHost', 'setGroup', 'removeHost', 'removeGroup']) {
    const orig = (m[name] as (...a: unknown[]) => { code: number }).bind(model);
    m[name] = (...a: unknown[]) => {
      const r = orig(...a);
      if (r.code === 200) last = performance.now();
      return r;
    };
  }
  return () => last;
}

/** `logPattern`: the config's log.path instead of the bed's one file (a fleet glob, bench/fleet.ts). */
export async function startBed(
  o: Pick<Options, 'objects' | 'listSize' | 'profile' | 'seed'>,
  logPattern?: (dir: string) => string,
): Promise<Bed> {
  const emu = await startEmulator({ users: { [USER]: PASSWORD }, profile: o.profile, seed: o.seed });
  // The admin's group, used by a blocking rule, as on a real firewall.
  emu.model.seedGroup({ name: GROUP, family: 'IPv4', description: 'blocked by fail2ban' });
  emu.model.addRule(`block ${GROUP}`, [GROUP]);
  const lastCommit = stampCommits(emu.model);
  const dir = await mkdtemp(join(tmpdir(), 'f2b-lists-bench-'));
  const logPath = join(dir, 'fail2ban.log');
  const configPath = join(dir, 'config.yaml');
  await writeFile(logPath, '');
  await writeFile(
    configPath,
    benchConfig({
      logPath: logPattern?.(dir) ?? logPath,
      stateDir: join(dir, 'state'),
      emu,
      group: GROUP,
      firewall: [
        // writes take minutes at this pace: the client must not give up on one
        'requestTimeoutMs: 120000',
        ...(o.objects ? [`objects: ${o.objects}`] : []),
        ...(o.listSize ? [`listSize: ${o.listSize}`] : []),
      ],
    }),
  );
  return {
    emu,
    dir,
    logPath,
    configPath,
    lastCommit,
    async close() {
      await emu.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

// ---- the sidecar process -------------------------------------------------------------------------

export interface Sidecar {
  child: ChildProcess;
  /** [VmRSS, VmHWM] in kB. */
  memory(): [number, number];
  stop(): Promise<void>;
}

export function startSidecar(bed: Pick<Bed, 'configPath'>): Sidecar {
  const child = spawn(process.execPath, [MAIN, 'run', '-c', bed.configPath], {
    env: { ...process.env, [PASSWORD_ENV]: PASSWORD },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exit = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  return {
    child,
    memory() {
      const s = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN);
      return [kb('VmRSS'), kb('VmHWM')];
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await exit.finally(() => clearTimeout(killer));
      if (code !== 0) throw new Error(`sidecar exited with ${code}; stderr:\n${stderr}`);
    },
  };
}

/** Firewall idle (nothing queued or served) for `quietMs`, polled. */
export async function quiet(emu: Emulator, quietMs: number, timeoutMs: number): Promise<void> {
  const end = performance.now() + timeoutMs;
  let since = performance.now();
  let seen = emu.stats.requests;
  while (performance.now() - since < quietMs) {
    if (performance.now() > end) throw new Error('the firewall never went quiet');
    if (emu.stats.inFlight > 0 || emu.stats.requests !== seen) {
      seen = emu.stats.requests;
      since = performance.now();
    }
    await sleep(100);
  }
}

// ---- scenarios -----------------------------------------------------------------------------------

export interface Result {
  scenario: string;
  n: number;
  ms: number;
  requests: number;
  writes: number;
  reads: number;
  objectsRead: number;
  /** Owned objects in the group afterwards. */
  objects: number;
  rssKb: number;
  peakRssKb: number;
  writeMeanMs: number;
  readMeanMs: number;
  oneShot: OneShot;
}

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => benchIp(from + i));

/**
 * Bans [0, standing) are in the log before the sidecar starts (its start-up puts them on the
 * firewall, unmeasured); then `kind` is appended in one write and timed until the firewall holds
 * exactly what it should.
 */
async function scenario(o: Options, kind: 'ban' | 'unban' | 'lone', n: number, say: (s: string) => void): Promise<Result> {
  const bed = await startBed(o);
  try {
    const standing = kind === 'unban' ? n : 0;
    const now = new Date();
    await appendFile(
      bed.logPath,
      range(0, standing)
        .map((ip) => actionLine('Ban', ip, now))
        .join(''),
    );
    // The standing bans are put on the firewall directly, as an earlier run would have left them:
    // at 6 s a write, letting the sidecar do it would cost 20 minutes per 10,000 in hosts mode.
    seedFirewall(bed.emu.model, range(0, standing), o);
    const sc = startSidecar(bed);
    try {
      say(`  start-up with ${standing} standing bans …`);
      await waitFor(() => blockedBy(bed.emu.model, GROUP).size >= standing, 6 * 3_600_000, sc);
      await quiet(bed.emu, kind === 'lone' ? 30_000 : 5000, 3_600_000);
      const base = { ...bed.emu.stats };
      const t0 = performance.now();
      const ips = kind === 'lone' ? [benchIp(n + 1_000_000)] : range(0, n);
      await appendFile(bed.logPath, ips.map((ip) => actionLine(kind === 'unban' ? 'Unban' : 'Ban', ip)).join(''));
      const want = (b: Set<string>) => (kind === 'unban' ? ips.every((ip) => !b.has(ip)) : ips.every((ip) => b.has(ip)));
      await waitFor(() => want(blockedBy(bed.emu.model, GROUP)), 6 * 3_600_000, sc);
      const ms = bed.lastCommit() - t0;
      await quiet(bed.emu, 3000, 3_600_000);
      const [rssKb, peakRssKb] = sc.memory();
      const s = bed.emu.stats;
      const writes = s.writes - base.writes;
      const reads = s.requests - base.requests - writes;
      const writeMeanMs = writes > 0 ? (s.writeDelayMs - base.writeDelayMs) / writes : PROFILES[o.profile].writeMs;
      const readMeanMs = reads > 0 ? (s.readDelayMs - base.readDelayMs) / reads : PROFILES[o.profile].readMs;
      const objects = bed.emu.model.groupMembers(GROUP).filter((m) => m.startsWith(PREFIX)).length;
      return {
        scenario: kind === 'lone' ? 'lone ban after a quiet period' : `${n}-${kind} burst`,
        n: ips.length,
        ms,
        requests: s.requests - base.requests,
        writes,
        reads,
        objectsRead: s.objectsRead - base.objectsRead,
        objects,
        rssKb,
        peakRssKb,
        writeMeanMs,
        readMeanMs,
        oneShot: oneShotCost(kind === 'unban' ? 'unban' : 'ban', ips.length, writeMeanMs, readMeanMs),
      };
    } finally {
      await sc.stop();
    }
  } finally {
    await bed.close();
  }
}

/** Owned objects for `ips` in the group: per-address hosts (hosts mode) or lists named and packed as the lists mode does. */
export function seedFirewall(model: EmulatorModel, ips: readonly string[], o: Pick<Options, 'objects' | 'listSize'>): void {
  const description = 'Managed by f2b-sophosxg';
  if (o.objects === 'lists') {
    const plan = planLists({ current: new Map(), desired: new Set(ips), listSize: o.listSize ?? 1000, namer: listNamer(PREFIX, GROUP) });
    for (const [name, list] of plan.lists) {
      model.seedHost({ name, family: 'IPv4', hostType: 'IPList', listOfIPAddresses: list.join(','), groups: [GROUP], description });
    }
    return;
  }
  for (const ip of ips)
    model.seedHost({ name: hostName(PREFIX, ip), family: 'IPv4', hostType: 'IP', ipAddress: ip, groups: [GROUP], description });
}

export async function waitFor(cond: () => boolean, timeoutMs: number, sc: Sidecar): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!cond()) {
    if (sc.child.exitCode !== null) throw new Error(`sidecar exited with ${sc.child.exitCode}`);
    if (performance.now() > end) throw new Error(`timed out after ${fmtMs(timeoutMs)}`);
    await sleep(250);
  }
}

export function report(o: Options, rs: readonly Result[]): string {
  const x = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(a / b >= 10 ? 0 : 1)}x` : '—');
  const head =
    '| work | time | requests (writes + reads) | objects read | objects in group | RSS / peak | one process per ban (time, requests) | ratio time / requests |';
  const rows = rs.map(
    (r) =>
      `| ${r.scenario} | ${fmtMs(r.ms)} | ${r.requests} (${r.writes} + ${r.reads}) | ${r.objectsRead} | ${r.objects} | ` +
      `${(r.rssKb / 1024).toFixed(0)} / ${(r.peakRssKb / 1024).toFixed(0)} MB | ${fmtMs(r.oneShot.ms)}, ${r.oneShot.requests} | ` +
      `${x(r.oneShot.ms, r.ms)} / ${x(r.oneShot.requests, r.requests)} |`,
  );
  return [
    `### ${o.objects ?? 'default (hosts)'} objects${o.listSize ? `, listSize ${o.listSize}` : ''}; emulator profile ${o.profile} (seed ${o.seed})`,
    '',
    head,
    '|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    'One process per ban is computed, not run: one write per ban, a read and two writes per unban, one after another,',
    `at the mean latencies the emulator injected in the same run (${rs.map((r) => `${r.scenario}: write ${fmtMs(r.writeMeanMs)}, read ${fmtMs(r.readMeanMs)}`).join('; ')}).`,
  ].join('\n');
}

export async function main(argv: readonly string[]): Promise<void> {
  const o = parseArgs(argv);
  const say = benchStart();
  const rs: Result[] = [];
  for (const s of o.scenarios) {
    say(`${s.kind} ${s.n} (${o.objects ?? 'default'} objects, ${o.profile}) …`);
    const r = await scenario(o, s.kind, s.n, say);
    say(
      `  ${fmtMs(r.ms)}, ${r.requests} requests (${r.writes} writes), ${r.objectsRead} objects read, ${r.objects} objects in the group, RSS ${(r.rssKb / 1024).toFixed(0)} MB (peak ${(r.peakRssKb / 1024).toFixed(0)} MB)`,
    );
    rs.push(r);
  }
  console.log(`\n${report(o, rs)}\n\ncommand: node --import tsx bench/lists.ts ${argv.join(' ')}`);
}

const isEntry = process.argv[1] !== undefined && /[\\/]bench[\\/]lists\.ts$/.test(process.argv[1]);
if (isEntry) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exitCode = 1;
  });
}
