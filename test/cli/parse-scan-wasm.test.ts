// The committed WebAssembly (src/cli/commands/parse-scan.wasm.ts) must be the build of its source
// (wasm/parse-scan.ts): otherwise the tests would check a module nobody can rebuild.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import { TARGET, compileScanner, moduleText } from '../../scripts/build-wasm.js';

describe('parse-scan.wasm.ts', () => {
  it('is the current build of wasm/parse-scan.ts (npm run build:wasm)', async () => {
    const binary = await compileScanner();
    expect(binary.length).toBeGreaterThan(1000);
    expect(readFileSync(TARGET, 'utf8')).toBe(moduleText(binary));
  }, 60_000);
});
