// `f2b-sophosxg emulator`: what it prints, the kept certificate, --group, --profile/--seed.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { emulatorOptions, parseGroupSpec, run, type EmulatorArgs } from '../../src/cli/commands/emulator.js';
import type { CliDeps } from '../../src/cli/deps.js';
import { main } from '../../src/cli/main.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

function deps(env: NodeJS.ProcessEnv = {}, cwd = tmpdir()): { deps: CliDeps; out: () => string; err: () => string; stop: AbortController } {
  const out: string[] = [];
  const err: string[] = [];
  const stop = new AbortController();
  const sink = (to: string[], onWrite?: () => void) =>
    new Writable({
      write(chunk: Buffer | string, _enc, cb) {
        to.push(chunk.toString());
        onWrite?.();
        cb();
      },
    });
  // Stop the emulator as soon as it has printed where it listens.
  const d: CliDeps = {
    stdout: sink(out, () => queueMicrotask(() => stop.abort())),
    stderr: sink(err),
    stdin: Readable.from([]),
    env,
    cwd,
    signal: stop.signal,
  };
  return { deps: d, out: () => out.join(''), err: () => err.join(''), stop };
}

async function startOnce(args: EmulatorArgs, env: NodeJS.ProcessEnv = {}): Promise<Record<string, string>> {
  const io = deps(env);
  expect(await run(args, io.deps)).toBe(0);
  return Object.fromEntries(
    io
      .out()
      .trim()
      .split('\n')
      .map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string]),
  );
}

describe('emulator command', () => {
  it('prints url, fingerprint and the default login; a login from --password-env is never printed', async () => {
    const def = await startOnce({});
    expect(def['url']).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/webconsole\/APIController$/);
    expect(def['fingerprint256']).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(def).toMatchObject({ user: 'admin', password: 'admin' });

    const own = await startOnce({ user: 'api', passwordEnv: 'XG_PW' }, { XG_PW: 's3cret-pw' });
    expect(own['user']).toBeUndefined();
    expect(own['password']).toBeUndefined();
    expect(JSON.stringify(own)).not.toContain('s3cret-pw');
  });

  it('--cert-dir keeps one key and certificate across starts: the same fingerprint every time', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'f2b-emu-cert-'));
    dirs.push(dir);
    const certDir = join(dir, 'certs');
    const first = await startOnce({ certDir });
    const second = await startOnce({ certDir });
    expect(second['fingerprint256']).toBe(first['fingerprint256']);
    expect(first['certDir']).toBe(certDir);
    expect((await stat(join(certDir, 'key.pem'))).mode & 0o777).toBe(0o600);
    // Without it, each process makes its own (shared within one process only).
    const other = await mkdtemp(join(tmpdir(), 'f2b-emu-cert-'));
    dirs.push(other);
    expect((await startOnce({ certDir: join(other, 'c') }))['fingerprint256']).not.toBe(first['fingerprint256']);
  });

  it('--group is NAME or NAME:FAMILY; anything else after a colon is a usage error (exit 2)', async () => {
    expect(parseGroupSpec('f2b_ssh')).toEqual({ name: 'f2b_ssh', family: 'IPv4' });
    expect(parseGroupSpec('f2b_ssh6:IPv6')).toEqual({ name: 'f2b_ssh6', family: 'IPv6' });
    expect(parseGroupSpec('f2b_ssh:ipv4')).toEqual({ name: 'f2b_ssh', family: 'IPv4' });
    for (const bad of ['a:b', 'a:IPv6:IPv6', ':IPv6', '']) expect(() => parseGroupSpec(bad)).toThrow(/NAME or NAME:FAMILY/);

    const io = deps();
    expect(await main(['emulator', '--group', 'a:b'], io.deps)).toBe(2);
    expect(io.err()).toMatch(/a:b.*NAME or NAME:FAMILY/);
  });

  it('--profile and --seed reach the emulator; explicit latencies override the profile; bad values exit 2', async () => {
    const io = deps();
    expect(emulatorOptions({}, io.deps)).toMatchObject({ faults: {} });
    expect(emulatorOptions({}, io.deps).profile).toBeUndefined();
    expect(emulatorOptions({ profile: 'realistic', seed: 7 }, io.deps)).toMatchObject({ profile: 'realistic', seed: 7, faults: {} });
    expect(emulatorOptions({ profile: 'realistic', writeLatencyMs: 100 }, io.deps).faults).toEqual({
      writeLatencyMs: 100,
      writeJitterMs: 0,
    });
    expect(await main(['emulator', '--profile', 'slow'], deps().deps)).toBe(2);
    expect(await main(['emulator', '--seed', '-1'], deps().deps)).toBe(2);
  });
});
