/**
 * A fleet at the firewall's own pace (issue 13): one sidecar following many fail2ban hosts' logs
 * through a glob, against the emulator's realistic profile (writes 6 ± 1.5 s, one at a time).
 *
 *   node --import tsx bench/fleet.ts [--sources 20] [--bans 1000] [--idle 100] [--profile realistic|fast] [--seed N]
 *
 * 1. burst: `sources` hosts each log a `bans`-ban burst at the same moment (distinct addresses),
 *    timed until the firewall blocks them all; compared with ONE host logging the same
 *    sources × bans bans (the plain single-log setup). Target: no more writes than the one host.
 * 2. shared: the same, but every host bans the same `bans` addresses (one attacker seen by all):
 *    one entry on the firewall per address, whatever the number of hosts.
 * 3. idle: RSS of the sidecar following 1 source vs `idle` sources, all quiet (a few lines each).
 *    Target: 100 idle sources add < 20 MB.
 */
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ProfileName } from '../src/emulator/index.js';
import { actionLine, benchIp, benchStart, fmtMs, sleep } from './lib.js';
import { blockedBy, quiet, startBed, startSidecar, waitFor, type Bed } from './lists.js';

const GROUP = 'f2b_lists_bench';

interface Options {
  sources: number;
  bans: number;
  idle: number;
  profile: ProfileName;
  seed: number;
}

export function parseArgs(argv: readonly string[]): Options {
  const val = (name: string, dflt: string) => {
    const i = argv.indexOf(name);
    return i < 0 ? dflt : (argv[i + 1] ?? dflt);
  };
  const num = (name: string, dflt: number) => {
    const n = Number(val(name, String(dflt)));
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name}: a positive integer`);
    return n;
  };
  const profile = val('--profile', 'realistic');
  if (profile !== 'realistic' && profile !== 'fast') throw new Error('--profile: realistic or fast');
  return { sources: num('--sources', 20), bans: num('--bans', 1000), idle: num('--idle', 100), profile, seed: num('--seed', 1) };
}

const hostName = (i: number) => `web${String(i + 1).padStart(3, '0')}`;
const fileOf = (dir: string, host: string) => join(dir, 'remote', host, 'fail2ban.log');
const pattern = (dir: string) => join(dir, 'remote', '*', 'fail2ban.log');

export interface BurstResult {
  what: string;
  sources: number;
  addresses: number;
  ms: number;
  writes: number;
  requests: number;
  objects: number;
}

/** Empty files for `n` hosts (the fleet's layout), or the bed's own single log when `n` is 0. */
async function layout(bed: Bed, n: number): Promise<string[]> {
  if (n === 0) return [bed.logPath];
  const files = Array.from({ length: n }, (_, i) => fileOf(bed.dir, hostName(i)));
  for (const f of files) {
    await mkdir(join(f, '..'), { recursive: true });
    await writeFile(f, '');
  }
  return files;
}

/**
 * `files.length` logs each get its share of `ips` (or all of them when `shared`) in one append,
 * all at once; timed until the firewall blocks every address and is quiet again.
 */
async function burst(
  o: Options,
  what: string,
  n: number,
  ips: readonly string[],
  shared: boolean,
  say: (s: string) => void,
): Promise<BurstResult> {
  const bed = await startBed({ objects: 'lists', profile: o.profile, seed: o.seed }, n === 0 ? undefined : pattern);
  try {
    const files = await layout(bed, n);
    const sc = startSidecar(bed);
    try {
      await quiet(bed.emu, 5000, 600_000);
      const base = { ...bed.emu.stats };
      const t0 = performance.now();
      const per = shared ? ips.length : Math.ceil(ips.length / files.length);
      await Promise.all(
        files.map((f, i) => {
          const mine = shared ? ips : ips.slice(i * per, (i + 1) * per);
          return appendFile(f, mine.map((ip) => actionLine('Ban', ip)).join(''));
        }),
      );
      say(`  ${what}: ${files.length} file(s), ${ips.length} addresses appended`);
      await waitFor(
        () => {
          const blocked = blockedBy(bed.emu.model, GROUP);
          return ips.every((ip) => blocked.has(ip));
        },
        3 * 3_600_000,
        sc,
      );
      const ms = bed.lastCommit() - t0;
      await quiet(bed.emu, 5000, 3_600_000);
      const s = bed.emu.stats;
      const objects = bed.emu.model.groupMembers(GROUP).length;
      return {
        what,
        sources: files.length,
        addresses: ips.length,
        ms,
        writes: s.writes - base.writes,
        requests: s.requests - base.requests,
        objects,
      };
    } finally {
      await sc.stop();
    }
  } finally {
    await bed.close();
  }
}

export interface IdleResult {
  sources: number;
  rssKb: number;
}

/** RSS of a settled sidecar following `n` quiet sources (each with a start line and one ban). */
async function idle(o: Options, n: number, say: (s: string) => void): Promise<IdleResult> {
  const bed = await startBed({ objects: 'lists', profile: 'fast', seed: o.seed }, pattern);
  try {
    const files = await layout(bed, n);
    await Promise.all(files.map((f, i) => appendFile(f, actionLine('Ban', benchIp(500_000 + i)))));
    const sc = startSidecar(bed);
    try {
      await waitFor(() => blockedBy(bed.emu.model, GROUP).size >= n, 600_000, sc);
      await quiet(bed.emu, 5000, 600_000);
      // Let start-up garbage go: sample the settled process a few times and keep the lowest.
      let rssKb = Infinity;
      for (let i = 0; i < 6; i++) {
        await sleep(5000);
        rssKb = Math.min(rssKb, sc.memory()[0]);
      }
      say(`  idle ${n} source(s): RSS ${(rssKb / 1024).toFixed(1)} MB`);
      return { sources: n, rssKb };
    } finally {
      await sc.stop();
    }
  } finally {
    await bed.close();
  }
}

export function report(o: Options, bursts: readonly BurstResult[], idles: readonly IdleResult[]): string {
  const rows = bursts.map(
    (r) => `| ${r.what} | ${r.sources} | ${r.addresses} | ${fmtMs(r.ms)} | ${r.writes} | ${r.requests} | ${r.objects} |`,
  );
  const [one, many] = idles;
  const idleLine =
    one && many
      ? `Idle: 1 source ${(one.rssKb / 1024).toFixed(1)} MB, ${many.sources} sources ${(many.rssKb / 1024).toFixed(1)} MB: ` +
        `${((many.rssKb - one.rssKb) / 1024).toFixed(1)} MB more (target < 20 MB).`
      : '';
  return [
    `### fleet, emulator profile ${o.profile} (seed ${o.seed}), lists mode`,
    '',
    '| burst | sources | addresses | time to blocked | writes | requests | objects in group |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
    idleLine,
  ].join('\n');
}

export async function main(argv: readonly string[]): Promise<void> {
  const o = parseArgs(argv);
  const say = benchStart();
  const total = o.sources * o.bans;
  const all = Array.from({ length: total }, (_, i) => benchIp(i));
  const bursts: BurstResult[] = [];
  bursts.push(await burst(o, `one host, ${total} bans`, 0, all, false, say));
  bursts.push(await burst(o, `${o.sources} hosts × ${o.bans} bans`, o.sources, all, false, say));
  bursts.push(await burst(o, `${o.sources} hosts, the same ${o.bans} bans`, o.sources, all.slice(0, o.bans), true, say));
  for (const r of bursts) say(`  ${r.what}: ${fmtMs(r.ms)}, ${r.writes} writes, ${r.requests} requests, ${r.objects} objects`);
  const idles = [await idle(o, 1, say), await idle(o, o.idle, say)];
  console.log(`\n${report(o, bursts, idles)}\n\ncommand: node --import tsx bench/fleet.ts ${argv.join(' ')}`);
}

const isEntry = process.argv[1] !== undefined && /[\\/]bench[\\/]fleet\.ts$/.test(process.argv[1]);
if (isEntry) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exitCode = 1;
  });
}
