// The package as a user gets it: `npm pack` (prepack compiles dist/), `npm install -g` of the tarball
// into a temp prefix, then the installed `f2b-sophosxg` command — through npm's bin symlink, the
// way systemd's ExecStart= and a shell run it.
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../../shared/fixtures/fail2ban/', import.meta.url));

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function exec(cmd: string, args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { cwd: opts.cwd, timeout: opts.timeoutMs ?? 30_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

let dir: string;
let bin: string;
let pkgDir: string;
let tarball: string;
let skipReason: string | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'f2b-pack-'));
  // Pack a snapshot of the tree, so the build's dist/ never lands in the shared working tree.
  const src = join(dir, 'src-tree');
  const pkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { files: string[] };
  const entries = new Set([
    'package.json',
    'package-lock.json',
    'tsconfig.json',
    'tsconfig.build.json',
    'src',
    ...pkg.files.filter((f) => !f.startsWith('dist')),
  ]);
  for (const e of entries) await cp(join(REPO, e), join(src, e), { recursive: true });
  await symlink(join(REPO, 'node_modules'), join(src, 'node_modules'));

  const packed = await exec('npm', ['pack', '--json', '--pack-destination', dir], { cwd: src, timeoutMs: 150_000 });
  if (packed.code !== 0) throw new Error(`npm pack failed (${packed.code}):\n${packed.stderr.slice(-3000)}`);
  const info = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as [{ filename: string }];
  tarball = join(dir, info[0].filename);

  const prefix = join(dir, 'prefix');
  const install = (mode: string) =>
    exec('npm', ['install', '-g', '--prefix', prefix, mode, '--no-audit', '--no-fund', tarball], { timeoutMs: 120_000 });
  // Dependencies from the npm cache when it has them, else the registry; offline-only as a fallback.
  let res = await install('--prefer-offline');
  if (res.code !== 0) res = await install('--offline');
  if (res.code !== 0) {
    skipReason = `npm install -g of the tarball failed (registry unreachable and cache incomplete?): ${res.stderr.split('\n').slice(-5).join(' ')}`;
    console.warn(`install/pack: installed-command tests SKIPPED — ${skipReason}`);
  }
  bin = join(prefix, 'bin', 'f2b-sophosxg');
  pkgDir = join(prefix, 'lib', 'node_modules', 'f2b-sophosxg');
}, 300_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

function installed(ctx: TestContext): void {
  if (skipReason) ctx.skip();
}

describe('npm pack', () => {
  it('the tarball holds the compiled CLI, the example config, the unit and the demo log; no tests, no TypeScript sources', async () => {
    const list = await exec('tar', ['-tzf', tarball]);
    expect(list.code).toBe(0);
    const files = list.stdout.split('\n').filter((l) => l !== '');
    for (const f of [
      'dist/src/cli/main.js',
      'dist/src/app/runtime.js',
      'config.example.yaml',
      'systemd/f2b-sophosxg.service',
      'package.json',
      'README.md',
    ]) {
      expect(files).toContain(`package/${f}`);
    }
    expect(files.some((f) => f.startsWith('package/demo/') && f.endsWith('.log'))).toBe(true);
    expect(
      files.filter((f) => f.startsWith('package/test/') || f.startsWith('package/src/') || f.startsWith('package/dist/test/')),
    ).toEqual([]);
  });
});

describe('installed with npm install -g', () => {
  it('`f2b-sophosxg --help` lists the commands', async (ctx) => {
    installed(ctx);
    const r = await exec(bin, ['--help']);
    expect(r.stdout, `stderr: ${r.stderr}`).toMatch(/^Usage: f2b-sophosxg /m);
    for (const c of ['run', 'parse', 'status', 'check', 'demo']) expect(r.stdout).toMatch(new RegExp(`^\\s+${c}\\b`, 'm'));
    expect(r.code).toBe(0);
  });

  it('`f2b-sophosxg --version` is the package version', async (ctx) => {
    installed(ctx);
    const pkg = JSON.parse(await readFile(join(pkgDir, 'package.json'), 'utf8')) as { version: string };
    const r = await exec(bin, ['--version']);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it('`run --help` shows its options', async (ctx) => {
    installed(ctx);
    const r = await exec(bin, ['run', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: f2b-sophosxg run /m);
    for (const o of ['--config <file>', '--dry-run', '--log-level <level>', '--log-format <format>']) expect(r.stdout).toContain(o);
  });

  it('`parse` reads a real fail2ban log', async (ctx) => {
    installed(ctx);
    const r = await exec(bin, ['parse', join(FIXTURES, 'fail2ban-1.0.2-full-cycle.log')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^2026-11-25 04:39:52,876 ban sshd 192\.0\.2\.10$/m);
    expect(r.stdout).toMatch(/ ban sshd 2001:db8::10$/m);
    expect(r.stderr).toMatch(/188 line\(s\), 47 event\(s\), 2 rejected/);
  });

  it('`check --offline` accepts the shipped example config and rejects a broken one', async (ctx) => {
    installed(ctx);
    const ok = await exec(bin, ['check', '--offline', '-c', join(pkgDir, 'config.example.yaml')]);
    expect(ok.stdout).toMatch(/config .*config\.example\.yaml is valid: 1 firewall\(s\), 2 group\(s\)/);
    expect(ok.code).toBe(0);
    const bad = await exec(bin, ['check', '--offline', '-c', join(FIXTURES, 'README.md')]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).not.toBe('');
  });
});
