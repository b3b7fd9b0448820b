/**
 * The program as the Debian package runs it: src/cli/main.ts and everything it imports, npm
 * dependencies included, bundled by esbuild into ES modules under <out>/dist/src/cli/ (the same
 * place as the npm build's main.js, so paths the code computes from import.meta.url — the demo log
 * at ../../../demo/ — land in the same spot of the package tree).
 */
import { build, type Metafile, type Plugin } from 'esbuild';
import { join } from 'node:path';

export interface BundleResult {
  /** The entry module the wrapper in /usr/bin runs. */
  entry: string;
  /** npm packages that ended up in the bundle (for the copyright file). */
  packages: string[];
}

/**
 * The sources read package.json (for the version) and commander through
 * `createRequire(import.meta.url)`, which a bundler cannot see through: in the bundle there is no
 * package.json or node_modules beside the file. For the project's own modules, `node:module` is
 * replaced by a shim whose createRequire answers those two from the bundle and passes anything
 * else (node built-ins) to the real one.
 */
function requireShim(repo: string, pkg: { name: string; version: string }): Plugin {
  const src = join(repo, 'src') + '/';
  const contents = [
    "import { createRequire as nodeCreateRequire } from 'node:module';",
    "import * as commander from 'commander';",
    "export * from 'node:module';",
    `const pkg = ${JSON.stringify({ name: pkg.name, version: pkg.version })};`,
    'const bundled = { commander };',
    'export function createRequire(url) {',
    '  const real = nodeCreateRequire(url);',
    '  const req = (id) => Object.hasOwn(bundled, id) ? bundled[id] : /(^|\\/)package\\.json$/.test(id) ? pkg : real(id);',
    '  return Object.assign(req, { resolve: real.resolve, cache: real.cache });',
    '}',
  ].join('\n');
  return {
    name: 'f2b-require-shim',
    setup(b) {
      b.onResolve({ filter: /^(node:)?module$/ }, (args) =>
        args.importer.startsWith(src) ? { path: 'node-module-shim', namespace: 'f2b-shim' } : undefined,
      );
      b.onLoad({ filter: /.*/, namespace: 'f2b-shim' }, () => ({ contents, loader: 'js', resolveDir: repo }));
    },
  };
}

/** npm package names of the bundled inputs (node_modules/NAME or node_modules/@scope/NAME). */
function bundledPackages(meta: Metafile): string[] {
  const names = new Set<string>();
  for (const input of Object.keys(meta.inputs)) {
    const m = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m?.[1]) names.add(m[1]);
  }
  return [...names].sort();
}

export async function bundle(repo: string, libDir: string, pkg: { name: string; version: string }): Promise<BundleResult> {
  const outdir = join(libDir, 'dist', 'src', 'cli');
  const result = await build({
    absWorkingDir: repo,
    entryPoints: [join(repo, 'src', 'cli', 'main.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Keeps the lazy loading of src/cli/commands/index.ts: `parse` does not load undici or pino.
    splitting: true,
    outdir,
    // Chunks beside main.js: demo.ts computes the demo log's path from its own module's URL.
    chunkNames: '[name]-[hash]',
    // CommonJS dependencies (undici, pino, ...) call require() for node built-ins; an ES module has
    // no require of its own.
    banner: {
      js: "import { createRequire as __f2bCreateRequire } from 'node:module';\nconst require = __f2bCreateRequire(import.meta.url);",
    },
    // The WebAssembly parse fast path is being removed; nothing else should need a loader.
    loader: { '.wasm': 'empty' },
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
    plugins: [requireShim(repo, pkg)],
  });
  return { entry: join(outdir, 'main.js'), packages: bundledPackages(result.metafile) };
}
