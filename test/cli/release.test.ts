import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/commands/release.js';
import type { CliDeps } from '../../src/cli/deps.js';

async function setup(holds: { group: string; count: number; token: string }[] | undefined) {
  const dir = await mkdtemp(join(tmpdir(), 'f2b-release-cli-'));
  const config = join(dir, 'c.yaml');
  await writeFile(
    config,
    `stateDir: ${dir}\nfirewalls:\n  main:\n    url: https://192.0.2.1:4444/webconsole/APIController\n    username: api\n    passwordFile: /etc/xg-pass\ngroups:\n  - name: g\n    firewall: main\n    jails: ["*"]\n`,
  );
  if (holds)
    await writeFile(
      join(dir, 'status.json'),
      JSON.stringify({
        groups: [],
        firewalls: [],
        log: { path: '/x', readable: true },
        holds: holds.map((h) => ({ ...h, since: '2026-01-01T00:00:00.000Z', reason: 'r' })),
      }),
    );
  const out = new PassThrough();
  const err = new PassThrough();
  let text = '';
  out.on('data', (b: Buffer) => (text += b.toString()));
  const deps = { stdout: out, stderr: err, stdin: new PassThrough(), env: {}, cwd: dir, signal: new AbortController().signal } as CliDeps;
  return { dir, config, deps, text: () => text };
}

describe('release command', () => {
  it('without a token requests every hold status.json lists; with one, that token', async () => {
    const s = await setup([
      { group: 'main/g', count: 21, token: 'main/g#21-aaaaaaaaaaaa' },
      { group: 'main/h', count: 7, token: 'main/h#7-bbbbbbbbbbbb' },
    ]);
    expect(await run({ config: s.config }, s.deps)).toBe(0);
    const files = await readdir(join(s.dir, 'release'));
    expect(files).toHaveLength(2);
    const tokens = await Promise.all(files.map(async (f) => (await readFile(join(s.dir, 'release', f), 'utf8')).trim()));
    expect(tokens.sort()).toEqual(['main/g#21-aaaaaaaaaaaa', 'main/h#7-bbbbbbbbbbbb']);
    expect(s.text()).toContain('release requested: main/g#21-aaaaaaaaaaaa (21 removals in main/g)');
  });

  it('nothing held: says so and writes nothing', async () => {
    const s = await setup(undefined);
    expect(await run({ config: s.config }, s.deps)).toBe(0);
    expect(s.text()).toMatch(/no removals held/);
    await expect(readdir(join(s.dir, 'release'))).rejects.toThrow();
  });
});
