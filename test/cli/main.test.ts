// The program as a whole (src/cli/main.ts): exit codes and help text, through main() itself.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliDeps } from '../../src/cli/deps.js';
import { main } from '../../src/cli/main.js';

interface Ran {
  code: number;
  out: string;
  err: string;
}

async function cli(argv: string[], cwd = tmpdir()): Promise<Ran> {
  const out: string[] = [];
  const err: string[] = [];
  const sink = (to: string[]) =>
    new Writable({
      write(chunk: Buffer | string, _enc, cb) {
        to.push(chunk.toString());
        cb();
      },
    });
  const deps: CliDeps = {
    stdout: sink(out),
    stderr: sink(err),
    stdin: Readable.from([]),
    env: {},
    cwd,
    signal: new AbortController().signal,
  };
  const code = await main(argv, deps);
  return { code, out: out.join(''), err: err.join('') };
}

let dir = '';
let config = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'f2b-main-'));
  config = join(dir, 'config.yaml');
  await writeFile(
    config,
    [
      `log: { path: ${JSON.stringify(join(dir, 'fail2ban.log'))} }`,
      `stateDir: ${JSON.stringify(join(dir, 'state'))}`,
      'firewalls:',
      '  main: { url: "https://127.0.0.1:1/webconsole/APIController", username: api, passwordEnv: XG_PASSWORD }',
      'groups:',
      '  - { name: f2b_ssh, firewall: main, jails: ["*"] }',
      '',
    ].join('\n'),
  );
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('exit codes', () => {
  it('a bad --ip is a usage error: exit 2, one line, nothing contacted', async () => {
    for (const ip of ['not-an-ip', '999.1.1.1', '']) {
      const r = await cli(['ban', '--ip', ip, '-c', config]);
      expect(r.code).toBe(2);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).toMatch(/^f2b-sophosxg: (--ip .* is not an IPv4\/IPv6 address or network|ban needs --ip ADDRESS)$/m);
    }
  });

  it('an unknown option is a usage error too (commander), a missing config file is not', async () => {
    expect((await cli(['ban', '--bogus'])).code).toBe(2);
    const r = await cli(['ban', '--ip', '192.0.2.1', '-c', join(dir, 'missing.yaml')]);
    expect(r.code).toBe(1);
  });
});

describe('check --offline', () => {
  it('warns about an unset password variable and a missing log, still valid: exit 0', async () => {
    const r = await cli(['check', '--offline', '-c', config]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/is valid: 1 firewall\(s\), 1 group\(s\)/);
    const warnings = r.err.trim().split('\n');
    expect(warnings).toEqual([
      expect.stringMatching(/^warning: firewall main: the environment variable XG_PASSWORD \(passwordEnv\) is not set here$/),
      expect.stringMatching(/^warning: cannot read log\.path .*fail2ban\.log: ENOENT/),
    ]);
  });
});

describe('help', () => {
  it('the program help lists every command, examples and the exit codes; exit 0', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['parse', 'run', 'status', 'replay', 'check', 'ban', 'unban', 'emulator', 'demo'])
      expect(r.out).toMatch(new RegExp(`^  ${c} `, 'm'));
    expect(r.out).toContain('Examples:');
    expect(r.out).toMatch(/Exit status:\n {2}0 .*\n {2}1 .*\n {2}2 .*usage.*\n {2}3 .*missing/);
  });

  it('parse and emulator help say what they read, with examples and exit codes', async () => {
    const parse = await cli(['parse', '--help']);
    expect(parse.code).toBe(0);
    expect(parse.out).toMatch(/on a terminal prints the usage and exits 2/);
    expect(parse.out).toMatch(/Examples:[\s\S]*Exit status:/);
    const emu = await cli(['emulator', '--help']);
    expect(emu.code).toBe(0);
    for (const flag of ['--cert-dir', '--profile', '--seed', '--group <name[:family]>']) expect(emu.out).toContain(flag);
    expect(emu.out).toMatch(/user=admin/);
    expect(emu.out).toMatch(/Examples:[\s\S]*Exit status:/);
  });
});
