// `status` prints what status.json holds; lists mode adds objects used and addresses per list (issue 12).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/commands/status.js';
import { STATUS_FILE } from '../../src/app/runtime.js';
import type { CliDeps } from '../../src/cli/deps.js';
import { healthySnapshot } from '../metrics/snapshot.js';

let dir = '';
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function statusOutput(mutate: (s: ReturnType<typeof healthySnapshot>) => void): Promise<string> {
  dir = await mkdtemp(join(tmpdir(), 'q12p-status-'));
  const config = join(dir, 'c.yaml');
  await writeFile(
    config,
    [
      `stateDir: ${dir}`,
      'firewalls:',
      '  edge: { url: "https://127.0.0.1:4444/webconsole/APIController", username: admin, passwordEnv: XG_PW }',
      'groups:',
      '  - { name: f2b-ssh-v4, ipv6Name: f2b-ssh-v6, firewall: edge, jails: ["*"] }',
      '',
    ].join('\n'),
  );
  const s = healthySnapshot();
  mutate(s);
  await writeFile(join(dir, STATUS_FILE), JSON.stringify(s));
  const stdout = new PassThrough();
  let text = '';
  stdout.on('data', (b: Buffer) => (text += b.toString()));
  const deps = {
    stdout,
    stderr: new PassThrough(),
    stdin: new PassThrough(),
    env: {},
    cwd: dir,
    signal: new AbortController().signal,
  } as CliDeps;
  await run({ config }, deps);
  return text;
}

describe('status command', () => {
  it('prints objects used and addresses per list for each group that reports them', async () => {
    const text = await statusOutput((s) => {
      s.groups[0]!.objects = { mode: 'lists', lists: 11, hosts: 2, maxPerList: 1000, meanPerList: 909 };
      s.groups[1]!.objects = { mode: 'hosts', lists: 0, hosts: 4, maxPerList: 0, meanPerList: 0 };
    });
    const lines = text.split('\n');
    expect(lines.find((l) => l.includes('f2b-ssh-v4'))).toContain(
      'objects: 11 lists (max 1000, mean 909 addresses per list) + 2 hosts (1 address each)',
    );
    expect(lines.find((l) => l.includes('f2b-ssh-v6'))).toContain('objects: 4 hosts (1 address each)');
    expect(lines.find((l) => l.includes('f2b-web'))).not.toContain('objects:');
  });

  it('shows held unbans as held (still blocked), not as an empty pending count', async () => {
    const text = await statusOutput((s) => {
      s.groups[0]!.suspended = 3;
      s.groups[1]!.suspended = 0;
    });
    const lines = text.split('\n');
    expect(lines.find((l) => l.includes('f2b-ssh-v4'))).toContain(
      'held 3 (unbans waiting to see whether fail2ban restarts, or jails stopped: still blocked)',
    );
    expect(lines.find((l) => l.includes('f2b-ssh-v6'))).toContain('held 0,');
  });

  it('lists each fleet source with its bans, events and file; a silent one says how to retire it', async () => {
    const text = await statusOutput((s) => {
      s.sources = [
        {
          name: 'web1',
          path: '/var/log/remote/web1/fail2ban.log',
          lastLineAt: '2026-12-04T12:00:00.000Z',
          events: 9,
          bans: 4,
          silent: false,
        },
        { name: 'web3', events: 0, bans: 2, silent: true },
      ];
    });
    const lines = text.split('\n');
    expect(lines.find((l) => l.includes('source web1'))).toBe(
      '  source web1: holds 4 bans, 9 events since start, last line 2026-12-04T12:00:00.000Z, file /var/log/remote/web1/fail2ban.log',
    );
    expect(lines.find((l) => l.includes('source web3'))).toContain('SILENT (retired? f2b-sophosxg forget -c ');
  });
});
