import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Subject, lastValueFrom, toArray } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseBanned, ClientOutputError } from '../../src/parser/client.js';
import { ClientCommandError, parseStatusJailBanned, readBanned, runClient, seedEvents, seedFirst, seedInputs } from '../../src/app/seed.js';
import { recordingLogger } from '../pipeline/harness.js';
import { capturedOutput, fakeClient, tempDir } from './helpers.js';
import { fail2banAvailable, startFail2ban, type Fail2banSandbox } from '../helpers/fail2ban.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
async function dir(): Promise<string> {
  const t = await tempDir('f2b-seed-');
  cleanups.push(t.remove);
  return t.dir;
}

describe('parseStatusJailBanned', () => {
  it('reads the Banned IP list of the captured `status JAIL` outputs', () => {
    expect(parseStatusJailBanned(capturedOutput('client-status-sshd.txt'))).toEqual(['192.0.2.10', '2001:db8::10']);
    expect(parseStatusJailBanned(capturedOutput('client-status-webapp-auth.txt'))).toEqual(['bad-host.example', '2001:db8:0:1::7']);
  });

  it('an empty list is no ban; output without the list is an error', () => {
    const empty = capturedOutput('client-status-sshd.txt').replace(/Banned IP list:\t.*$/m, 'Banned IP list:\t');
    expect(parseStatusJailBanned(empty)).toEqual([]);
    expect(() => parseStatusJailBanned(capturedOutput('client-status-sshd-short.txt'))).toThrow(ClientOutputError);
    expect(() => parseStatusJailBanned(capturedOutput('client-status.txt'))).toThrow(/Status for the jail/);
  });
});

describe('seedEvents', () => {
  it('one restore-ban per valid address, normalised; hostnames reported, not dropped silently', () => {
    const plan = seedEvents(parseBanned(capturedOutput('client-banned.txt')));
    expect(plan.events.map((e) => [e.type, e.jail, e.ip, e.family])).toEqual([
      ['restore-ban', 'sshd', '192.0.2.10', 'IPv4'],
      ['restore-ban', 'sshd', '2001:db8::10', 'IPv6'],
      ['restore-ban', 'webapp-auth', '2001:db8:0:1::7', 'IPv6'],
    ]);
    expect(plan.rejected).toEqual([{ jail: 'webapp-auth', id: 'bad-host.example', reason: 'hostname' }]);
    expect(plan.events.every((e) => e.isoTime === undefined)).toBe(true);
  });

  it('CIDR, IPv4-mapped and full-form IPv6 bans from the captured listings', () => {
    const plan = seedEvents(new Map([['sshd', ['198.51.100.0/24', '::ffff:192.0.2.5', '2001:0db8:0000:0000:0000:0000:0000:0001']]]));
    expect(plan.events.map((e) => e.ip)).toEqual(['198.51.100.0/24', '192.0.2.5', '2001:db8::1']);
    expect(seedEvents(parseBanned(capturedOutput('client-edge/client-banned-none.txt'))).events).toEqual([]);
  });
});

describe('readBanned (fake fail2ban-client)', () => {
  it('uses `banned` when the server knows it', async () => {
    const fake = await fakeClient(await dir(), { banned: { stdout: capturedOutput('client-edge/client-banned-mixed.txt') } });
    const r = await readBanned({ path: fake.path, args: ['-s', '/run/x.sock'] });
    expect(r.via).toBe('banned');
    expect([...r.jails]).toEqual([
      ['sshd', ['192.0.2.99', '2001:db8::99', '198.51.100.99']],
      ['webapp-auth', []],
    ]);
    expect(await fake.calls()).toEqual(['banned']);
  });

  it('falls back to `status` + `status JAIL` on a server without `banned`', async () => {
    const fake = await fakeClient(await dir(), {
      status: { stdout: capturedOutput('client-status.txt') },
      'status sshd': { stdout: capturedOutput('client-status-sshd.txt') },
      'status webapp-auth': { stdout: capturedOutput('client-status-webapp-auth.txt') },
    });
    const r = await readBanned({ path: fake.path, args: [] });
    expect(r.via).toBe('status');
    expect(r.fallbackReason).toMatch(/exited with code 255: .*Invalid command/);
    expect([...r.jails]).toEqual([
      ['sshd', ['192.0.2.10', '2001:db8::10']],
      ['webapp-auth', ['bad-host.example', '2001:db8:0:1::7']],
    ]);
    expect(await fake.calls()).toEqual(['banned', 'status', 'status sshd', 'status webapp-auth']);
  });

  it('server not running: the error names the command, the exit code and the reason', async () => {
    const down = capturedOutput('client-edge/client-status-server-not-running.txt');
    const fake = await fakeClient(await dir(), { banned: { stderr: down, code: 255 }, status: { stderr: down, code: 255 } });
    const err = await readBanned({ path: fake.path, args: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientCommandError);
    expect(err).toMatchObject({ code: 'F2B_CLIENT_FAILED', retryable: true, exitCode: 255 });
    expect((err as Error).message).toMatch(/status` exited with code 255: .*Failed to access socket path/);
  });

  it('a missing executable and a hanging client fail without a fallback', async () => {
    const d = await dir();
    await expect(readBanned({ path: join(d, 'nope'), args: [] })).rejects.toThrow(/cannot run .*nope banned/);
    const fake = await fakeClient(d, { banned: { sleepSec: 30 } });
    await expect(runClient({ path: fake.path, args: [] }, ['banned'], 200)).rejects.toThrow(/timed out after 200 ms/);
    await expect(readBanned({ path: fake.path, args: [] }, 200)).rejects.toBeInstanceOf(ClientCommandError);
    expect(await fake.calls()).toEqual(['banned', 'banned']);
  });

  it('garbage output from `banned` falls back too', async () => {
    const fake = await fakeClient(await dir(), {
      banned: { stdout: 'Sorry, what?\n' },
      status: { stdout: 'Status\n|- Number of jail:\t0\n`- Jail list:\t\n' },
    });
    const r = await readBanned({ path: fake.path, args: [] });
    expect(r).toMatchObject({ via: 'status', jails: new Map() });
    expect(r.fallbackReason).toMatch(/./);
    expect(await fake.calls()).toEqual(['banned', 'status']);
  });
});

describe('seedInputs and seedFirst', () => {
  it('seedInputs emits one input per ban and logs a summary; a failure is one warning and completes', async () => {
    const fake = await fakeClient(await dir(), { banned: { stdout: capturedOutput('client-banned.txt') } });
    const log = recordingLogger();
    const inputs = await lastValueFrom(seedInputs({ client: { path: fake.path, args: [] }, log }).pipe(toArray()));
    expect(inputs.map((i) => i.event?.ip)).toEqual(['192.0.2.10', '2001:db8::10', '2001:db8:0:1::7']);
    expect(inputs.every((i) => i.checkpoint === undefined)).toBe(true);
    expect(log.at('info').at(-1)).toMatchObject({
      msg: 'seeded desired state from fail2ban-client',
      obj: { via: 'banned', bans: 3, rejected: 1 },
    });

    const log2 = recordingLogger();
    const none = await lastValueFrom(seedInputs({ client: { path: '/nonexistent/fail2ban-client', args: [] }, log: log2 }).pipe(toArray()));
    expect(none).toEqual([]);
    expect(log2.at('warn')).toHaveLength(1);
    expect(log2.at('warn')[0]?.obj).toMatchObject({ code: 'F2B_CLIENT_FAILED' });
  });

  it('seedFirst holds the live items until the seed completes, then passes them in order', () => {
    const live = new Subject<string>();
    const seed = new Subject<string>();
    const out: string[] = [];
    const sub = live.pipe(seedFirst(seed)).subscribe({ next: (v) => out.push(v), complete: () => out.push('|') });
    live.next('l1');
    seed.next('s1');
    live.next('l2');
    seed.next('s2');
    expect(out).toEqual(['s1', 's2']);
    seed.complete();
    expect(out).toEqual(['s1', 's2', 'l1', 'l2']);
    live.next('l3');
    live.complete();
    expect(out).toEqual(['s1', 's2', 'l1', 'l2', 'l3', '|']);
    expect(live.observed).toBe(false);
    sub.unsubscribe();
  });

  it('seedFirst: a source that ends during the seed ends after it; unsubscribing stops both', () => {
    const live = new Subject<string>();
    const seed = new Subject<string>();
    const out: string[] = [];
    const sub = live.pipe(seedFirst(seed)).subscribe({ next: (v) => out.push(v), complete: () => out.push('|') });
    live.next('l1');
    live.complete();
    expect(out).toEqual([]);
    seed.complete();
    expect(out).toEqual(['l1', '|']);
    sub.unsubscribe();
    const seed2 = new Subject<string>();
    const live2 = new Subject<string>();
    live2.pipe(seedFirst(seed2)).subscribe().unsubscribe();
    expect(seed2.observed || live2.observed).toBe(false);
  });
});

const available = fail2banAvailable();
if (!available) console.warn('seed: real fail2ban test SKIPPED — fail2ban-server / /etc/fail2ban not installed');

describe.skipIf(!available)('readBanned against the real fail2ban (sandbox)', () => {
  let sb: Fail2banSandbox;
  beforeAll(async () => {
    sb = await startFail2ban({ bantimeSec: 600 });
    for (const ip of ['192.0.2.71', '2001:db8::71']) {
      const res = await sb.client('set', 'sshd', 'banip', ip);
      expect(res.code).toBe(0);
    }
    expect((await sb.client('set', 'webapp-auth', 'banip', '198.51.100.0/24')).code).toBe(0);
  }, 60_000);
  afterAll(async () => {
    await sb?.close();
  });

  it('`banned` through the configured command line (-c/-s of the sandbox)', async () => {
    const client = { path: 'fail2ban-client', args: ['-c', sb.etcDir, '-s', sb.socketPath] };
    const r = await readBanned(client);
    expect(r.via).toBe('banned');
    const plan = seedEvents(r.jails);
    expect(plan.events.map((e) => `${e.jail} ${e.ip}`).sort()).toEqual([
      'sshd 192.0.2.71',
      'sshd 2001:db8::71',
      'webapp-auth 198.51.100.0/24',
    ]);
  }, 30_000);

  it('the `status JAIL` fallback gives the same bans (a wrapper refuses `banned` like an old server)', async () => {
    const d = await dir();
    const wrapper = join(d, 'old-fail2ban-client');
    await writeFile(
      wrapper,
      `#!/bin/sh\nfor a in "$@"; do [ "$a" = banned ] && { echo "Invalid command" >&2; exit 255; }; done\nexec fail2ban-client "$@"\n`,
    );
    await chmod(wrapper, 0o755);
    const r = await readBanned({ path: wrapper, args: ['-c', sb.etcDir, '-s', sb.socketPath] });
    expect(r.via).toBe('status');
    expect(r.jails.get('sshd')?.slice().sort()).toEqual(['192.0.2.71', '2001:db8::71']);
    expect(r.jails.get('webapp-auth')).toEqual(['198.51.100.0/24']);
  }, 30_000);
});
