/**
 * `f2b-sophosxg parse --json` against `grep -c ' Ban '` on a generated 1,000,000-line log.
 * Usage: npx tsx bench/parse-vs-grep.ts [--lines N] [--runs N]. Target: parse ≤ 3× grep.
 * Both read the file from the page cache (one warm-up run each); the median of the runs counts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateLog } from './gen-log.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const opt = (name: string, def: number): number => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? Number(argv[i + 1]) : def;
};
const lines = opt('--lines', 1_000_000);
const runs = opt('--runs', 5);

const main = join(root, 'dist/src/cli/main.js');
if (!existsSync(main) || argv.includes('--build')) {
  console.log('building dist/ …');
  const b = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  if (b.status !== 0) throw new Error('build failed');
}

const dir = mkdtempSync(join(tmpdir(), 'f2b-bench-'));
try {
  const file = join(dir, 'fail2ban.log');
  const stats = generateLog(file, lines);
  console.log(`log: ${stats.lines} lines, ${(statSync(file).size / 1e6).toFixed(1)} MB, ${stats.bans} Ban lines`);

  const time = (cmd: string, args: string[]): { ms: number; out: string; err: string } => {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe'] });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0 && !(cmd === 'grep' && r.status === 1)) throw new Error(`${cmd} failed: ${r.stderr}`);
    return { ms, out: r.stdout, err: r.stderr };
  };
  // Output goes to /dev/null through the shell, as in real use of a redirect.
  const parseCmd = ['-c', `node ${JSON.stringify(main)} parse --json ${JSON.stringify(file)} > /dev/null`];
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

  const g0 = time('grep', ['-c', ' Ban ', file]);
  const p0 = time('sh', parseCmd);
  console.log(`grep count: ${g0.out.trim()}; parse summary: ${p0.err.trim()}`);
  const g: number[] = [];
  const p: number[] = [];
  for (let i = 0; i < runs; i++) {
    g.push(time('grep', ['-c', ' Ban ', file]).ms);
    p.push(time('sh', parseCmd).ms);
  }
  const gm = median(g);
  const pm = median(p);
  const base = median(Array.from({ length: 3 }, () => time('node', [main, '--version']).ms));
  console.log(`grep -c ' Ban '      median ${gm.toFixed(0)} ms  (${g.map((x) => x.toFixed(0)).join(', ')})`);
  console.log(`parse --json         median ${pm.toFixed(0)} ms  (${p.map((x) => x.toFixed(0)).join(', ')})`);
  console.log(`node main.js --version (start-up only) median ${base.toFixed(0)} ms`);
  console.log(`ratio parse/grep: ${(pm / gm).toFixed(2)}x (target ≤ 3x) ${pm / gm <= 3 ? 'OK' : 'MISSED'}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
