/**
 * `npm run package`: builds pkg/f2b-sophosxg_<version>-1_<arch>.deb, which needs no Node.js or npm
 * on the host. Layout (see the notes in README / scripts/package-bundle.ts):
 *   /usr/bin/f2b-sophosxg                    sh wrapper: exec the private runtime on the bundle
 *   /usr/lib/f2b-sophosxg/node               a stripped copy of the Node.js binary running this build
 *   /usr/lib/f2b-sophosxg/dist/src/cli/*.js  the program and its npm dependencies, bundled by esbuild
 *   /usr/lib/f2b-sophosxg/demo/              the demo's fail2ban log
 *   /usr/lib/systemd/system/f2b-sophosxg.service, /etc/fail2ban/action.d/sophosxg.conf (conffile),
 *   /usr/share/doc/f2b-sophosxg/{config.example.yaml,copyright,changelog.Debian.gz}, man page.
 * Options: --out DIR (default pkg/), --revision N (default 1), --compression xz|gzip (default xz:
 * about a third smaller, but several times the CPU time of gzip; the install test uses gzip).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { bundle } from './package-bundle.js';
import {
  changelog,
  control,
  LINTIAN_OVERRIDES,
  copyright,
  LIB,
  manPage,
  NAME,
  POSTINST,
  POSTRM,
  PRERM,
  type HelpPage,
} from './package-debian.js';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const run = (cmd: string, args: string[], opts: { cwd?: string } = {}): string =>
  execFileSync(cmd, args, { encoding: 'utf8', cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

function write(path: string, text: string | Buffer, mode = 0o644): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  chmodSync(path, mode);
}

function copy(from: string, to: string, mode = 0o644): void {
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
  chmodSync(to, mode);
}

/** Reproducible dates: the last commit's time, unless SOURCE_DATE_EPOCH says otherwise. */
function buildDate(): Date {
  const env = process.env.SOURCE_DATE_EPOCH;
  if (env) return new Date(Number(env) * 1000);
  try {
    return new Date(Number(run('git', ['log', '-1', '--format=%ct'], { cwd: REPO }).trim()) * 1000);
  } catch {
    return new Date();
  }
}

/** The unit of the repo runs `f2b-sophosxg` through systemd's search path; the package names its binary. */
function packagedUnit(): string {
  const text = readFileSync(join(REPO, 'systemd', `${NAME}.service`), 'utf8');
  const out = text
    .replace(/^(ExecStart(?:Pre)?=)f2b-sophosxg /gm, '$1/usr/bin/f2b-sophosxg ')
    .replace(/^# Install: .*$/m, `# Installed by the Debian package ${NAME}; enable it once /etc/${NAME}/config.yaml exists.`);
  if (/^ExecStart(?:Pre)?=f2b-sophosxg/m.test(out) || !/^ExecStart=\/usr\/bin\/f2b-sophosxg /m.test(out)) {
    throw new Error('systemd/f2b-sophosxg.service: ExecStart= no longer has the expected form');
  }
  return out;
}

/** Strips the runtime (the build's own node: same version the tests ran) of its debug symbols. */
function installRuntime(dest: string): void {
  copy(process.execPath, dest, 0o755);
  run('strip', ['--strip-unneeded', '--remove-section=.comment', '--remove-section=.note', dest]);
}

/** Shared-library dependencies of the runtime, from dpkg-shlibdeps where it exists. */
function depends(stage: string, binary: string): string {
  const fallback = 'libc6 (>= 2.28), libgcc-s1 (>= 3.4), libstdc++6 (>= 5.2)';
  const tmp = join(stage, '..', 'shlibdeps');
  try {
    mkdirSync(join(tmp, 'debian'), { recursive: true });
    writeFileSync(join(tmp, 'debian', 'control'), `Source: ${NAME}\n\nPackage: ${NAME}\nArchitecture: any\n`);
    const out = run('dpkg-shlibdeps', ['-O', binary], { cwd: tmp });
    return /shlibs:Depends=(.*)/.exec(out)?.[1]?.trim() || fallback;
  } catch {
    return fallback;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function helpPages(node: string, entry: string): { top: string; commands: HelpPage[] } {
  const help = (args: string[]) => run(node, [entry, ...args, '--help']);
  const top = help([]);
  const section = /Commands:\n([\s\S]*?)(?:\n\n|$)/.exec(top)?.[1] ?? '';
  const names = [...section.matchAll(/^ {2}(\S+)/gm)].map((m) => m[1]!).filter((n) => n !== 'help');
  return { top, commands: names.map((command) => ({ command, text: help([command]) })) };
}

function licenses(packages: string[]): { name: string; license: string }[] {
  return packages.map((name) => {
    const file = join(REPO, 'node_modules', name, 'package.json');
    const pj = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { license?: string }) : {};
    return { name, license: pj.license ?? 'see package' };
  });
}

function duKiB(dir: string): number {
  let bytes = 0;
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) bytes += statSync(join(e.parentPath, e.name)).size;
  }
  return Math.ceil(bytes / 1024);
}

function md5sums(stage: string): string {
  const files = readdirSync(stage, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && !join(e.parentPath, e.name).startsWith(join(stage, 'DEBIAN')))
    .map((e) => join(e.parentPath, e.name).slice(stage.length + 1))
    .sort();
  return run('md5sum', files, { cwd: stage });
}

async function stageFiles(stage: string, pkg: { name: string; version: string }, debVersion: string, date: Date): Promise<string[]> {
  const lib = join(stage, LIB.slice(1));
  const { entry, packages } = await bundle(REPO, lib, pkg);
  // The wrapper runs the entry with the private runtime: its `#!/usr/bin/env node` would name the
  // host's node (and lintian asks for a dependency on nodejs), so it goes.
  write(entry, readFileSync(entry, 'utf8').replace(/^#!.*\n/, ''));
  // ES modules by their nearest package.json; also where findPackageJson would look.
  write(join(lib, 'package.json'), JSON.stringify({ name: pkg.name, version: pkg.version, type: 'module', private: true }, null, 2) + '\n');
  copy(join(REPO, 'demo', 'fail2ban-1.0.2-full-cycle.log'), join(lib, 'demo', 'fail2ban-1.0.2-full-cycle.log'));
  installRuntime(join(lib, 'node'));
  write(join(stage, 'usr/bin', NAME), `#!/bin/sh\nexec ${LIB}/node ${LIB}/dist/src/cli/main.js "$@"\n`, 0o755);
  write(join(stage, 'usr/lib/systemd/system', `${NAME}.service`), packagedUnit());
  copy(join(REPO, 'action.d', 'sophosxg.conf'), join(stage, 'etc/fail2ban/action.d/sophosxg.conf'));
  const doc = join(stage, 'usr/share/doc', NAME);
  copy(join(REPO, 'config.example.yaml'), join(doc, 'config.example.yaml'));
  write(join(stage, 'usr/share/lintian/overrides', NAME), LINTIAN_OVERRIDES);
  write(join(doc, 'changelog.Debian.gz'), gzipSync(changelog(debVersion, date), { level: 9 }));
  write(
    join(doc, 'copyright'),
    copyright({
      year: date.getUTCFullYear(),
      packages: licenses(packages),
      nodeVersion: process.version,
      nodeLicense: existsSync('/usr/share/doc/nodejs/LICENSE')
        ? readFileSync('/usr/share/doc/nodejs/LICENSE', 'utf8')
        : 'Node.js is under the MIT license; see https://github.com/nodejs/node/blob/main/LICENSE',
      mitText: readFileSync(join(REPO, 'node_modules', 'commander', 'LICENSE'), 'utf8')
        .replace(/^.*Copyright.*$/m, '')
        .trim(),
    }),
  );
  const { top, commands } = helpPages(process.execPath, entry);
  write(join(stage, 'usr/share/man/man1', `${NAME}.1.gz`), gzipSync(manPage(pkg.version, date, top, commands), { level: 9 }));
  return ['/etc/fail2ban/action.d/sophosxg.conf'];
}

async function main(): Promise<void> {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { name: string; version: string };
  const debVersion = `${pkg.version}-${option('--revision', '1')}`;
  const arch = run('dpkg', ['--print-architecture']).trim();
  const out = option('--out', join(REPO, 'pkg'));
  const stage = join(out, 'build', `${NAME}_${debVersion}_${arch}`);
  rmSync(stage, { recursive: true, force: true });
  try {
    process.stdout.write(`${await buildDeb(stage, out, pkg, debVersion, arch)}\n`);
  } finally {
    // Never leave the staged tree behind: its bundled JS would be linted and searched as source.
    rmSync(join(out, 'build'), { recursive: true, force: true });
  }
}

async function buildDeb(
  stage: string,
  out: string,
  pkg: { name: string; version: string },
  debVersion: string,
  arch: string,
): Promise<string> {
  const date = buildDate();
  const conffiles = await stageFiles(stage, pkg, debVersion, date);
  const deps = depends(stage, join(stage, LIB.slice(1), 'node'));
  const installedKiB = duKiB(stage);
  const debian = join(stage, 'DEBIAN');
  write(join(debian, 'md5sums'), md5sums(stage));
  write(join(debian, 'control'), control({ version: debVersion, arch, installedKiB, depends: deps }));
  write(join(debian, 'conffiles'), conffiles.join('\n') + '\n');
  write(join(debian, 'postinst'), POSTINST, 0o755);
  write(join(debian, 'prerm'), PRERM, 0o755);
  write(join(debian, 'postrm'), POSTRM, 0o755);
  const deb = join(out, `${NAME}_${debVersion}_${arch}.deb`);
  const compression = option('--compression', 'xz');
  if (!['xz', 'gzip'].includes(compression)) throw new Error(`--compression: xz or gzip, not ${compression}`);
  run('dpkg-deb', ['--root-owner-group', `-Z${compression}`, '--build', stage, deb]);
  return deb;
}

await main();
