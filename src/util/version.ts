/** The package's own version, for --version, the build_info metric and the start-up line. */
import { createRequire } from 'node:module';

let cached: string | undefined;

/** Read once from package.json: two levels up in the source tree (tsx), three from dist/src. */
export function packageVersion(): string {
  if (cached !== undefined) return cached;
  const require = createRequire(import.meta.url);
  for (const p of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = require(p) as { name?: unknown; version?: unknown };
      // dist/src/util is three levels deep: two levels up is dist/, which has no package.json.
      if (pkg.name === 'f2b-sophosxg' && typeof pkg.version === 'string') return (cached = pkg.version);
    } catch {
      /* the other layout */
    }
  }
  return (cached = '0.0.0');
}
