/**
 * How soon the tailer sees the second line of a quick burst: a write, another 1 ms later, 40 such
 * bursts 30 ms apart, each second line timed from its write to its delivery. A watcher that misses
 * events shows here as lines waiting for the 5 s poll (chokidar: p90 ~4.9 s; fs.watch: ~1 ms).
 *
 *   node --import tsx bench/burst-latency.ts [--bursts 40]
 *
 * Not a test: the figures depend on the machine and its load, so they are printed, not asserted.
 */
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { tailFile } from '../src/tail/index.js';

const { values } = parseArgs({ options: { bursts: { type: 'string', default: '40' } } });
const bursts = Number(values.bursts);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const dir = mkdtempSync(join(tmpdir(), 'burst-latency-'));
const path = join(dir, 'fail2ban.log');
writeFileSync(path, '');
const seen = new Map<string, number>();
const sub = tailFile({ path, startAt: 'beginning' }).subscribe((l) => seen.set(l.line, performance.now()));
await sleep(500);
const lat: number[] = [];
for (let i = 0; i < bursts; i++) {
  appendFileSync(path, `a${i}\n`);
  // The read of the first line is under way when the second is written.
  await new Promise((r) => setImmediate(r));
  await sleep(1);
  const t = performance.now();
  appendFileSync(path, `b${i}\n`);
  while (!seen.has(`b${i}`)) await sleep(2);
  lat.push((seen.get(`b${i}`) ?? t) - t);
  await sleep(30);
}
sub.unsubscribe();
rmSync(dir, { recursive: true, force: true });
lat.sort((x, y) => x - y);
const at = (q: number): string => (lat[Math.min(lat.length - 1, Math.floor(q * lat.length))] ?? 0).toFixed(0);
console.log(
  `second line of a two-line burst, write → delivered (${bursts} bursts): median ${at(0.5)} ms, p90 ${at(0.9)} ms, max ${at(1)} ms; over 1 s: ${lat.filter((x) => x > 1000).length}`,
);
