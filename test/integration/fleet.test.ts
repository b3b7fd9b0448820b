// A fleet through one sidecar (issue 13), at process level: the real `run` follows a glob of
// per-host logs against the HTTPS emulator; what the firewall must hold is computed from the
// lines written (LogWriter.expected, a regex of its own), never from the sidecar's parser.
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { closeAll, GROUP_V4, LogWriter, startWorld, v4s, waitFor, type World } from '../helpers/sidecar.js';

const PATTERN = (dir: string) => join(dir, 'remote', '*', 'fail2ban.log');

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});
afterAll(closeAll);

async function host(w: World, name: string, pid: number): Promise<LogWriter> {
  const file = join(w.dir, 'remote', name, 'fail2ban.log');
  await mkdir(join(w.dir, 'remote', name), { recursive: true });
  await writeFile(file, '');
  return new LogWriter(file, pid);
}

/** The union of every host's standing bans (IPv4 only here). */
function union(...hosts: LogWriter[]): { v4: Set<string>; v6: Set<string> } {
  const v4 = new Set<string>();
  for (const h of hosts) for (const a of h.expected().v4) v4.add(a);
  return { v4, v6: new Set() };
}

describe('fleet: a glob of per-host logs', () => {
  it('one entry per address across hosts, lifted only when every host lifted it; a new host is followed from line 1; per-source checkpoints survive kill -9', async () => {
    world = await startWorld({ logPath: PATTERN, windowMs: 100 });
    const w = world;
    const web1 = await host(w, 'web1', 1001);
    const web2 = await host(w, 'web2', 2002);
    const [shared, only1, only2] = [v4s(1, 10)[0] as string, v4s(3, 20), v4s(3, 30)];
    await web1.ban([shared, ...only1]);
    await web2.ban([shared, ...only2]);
    await web1.unban([shared]);
    // plan reads the glob as run would: web1's unban of the shared address leaves web2's ban.
    const plan = await w.cli(['plan', '-c', w.configPath]);
    expect(plan.code, plan.output).toBe(4);
    expect(plan.stdout).toContain(`group ${GROUP_V4} (IPv4) on xg: add 7, remove 0`);
    await web1.ban([shared]);
    let proc = await w.start();
    await w.converged(proc, 30_000, union(web1, web2));

    // web1 lifts the shared address: web2 still holds it.
    await web1.unban([shared]);
    await web1.ban(v4s(1, 40));
    await w.converged(proc, 30_000, { v4: new Set([shared, ...only1, ...only2, ...v4s(1, 40)]), v6: new Set() });

    // A host that starts logging later, with bans already in its file: read from its first line.
    const web3 = await host(w, 'web3', 3003);
    await web3.ban(v4s(2, 50));
    // Within 10 s (a scan every 5 s) plus the batching window.
    await w.converged(proc, 11_000, union(web1, web2, web3));
    const status = await w.readStatus();
    expect(status?.sources?.map((s) => [s.name, s.bans])).toEqual([
      ['web1', 4],
      ['web2', 4],
      ['web3', 2],
    ]);

    // kill -9, more lines while down (one per host), restart: nothing lost, nothing repeated.
    await proc.kill9();
    await web2.unban([shared]);
    await web3.ban(v4s(1, 60));
    proc = await w.start();
    await w.converged(proc, 30_000, union(web1, web2, web3));
    expect(w.owned(GROUP_V4).has(shared)).toBe(false);
    // One checkpoint per followed file, each at its file's end.
    let feeds = '';
    await waitFor(
      async () => {
        const s = JSON.parse(await readFile(join(w.stateDir, 'state.json'), 'utf8')) as {
          checkpoints?: Record<string, { path: string; offset: number }>;
        };
        feeds = JSON.stringify(s.checkpoints);
        const ends = [web1, web2, web3].map((h) => h.lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0));
        return ['web1', 'web2', 'web3'].every((name, i) => s.checkpoints?.[name]?.offset === ends[i]);
      },
      10_000,
      () => `checkpoints ${feeds}`,
    );
  }, 120_000);

  it('forget SOURCE: --dry-run lists, the running sidecar lifts only what that host alone held', async () => {
    world = await startWorld({ logPath: PATTERN, windowMs: 100 });
    const w = world;
    const web1 = await host(w, 'web1', 1001);
    const web2 = await host(w, 'web2', 2002);
    const shared = v4s(2, 10);
    const only2 = v4s(3, 20);
    await web1.ban([...shared, ...v4s(1, 30)]);
    await web2.ban([...shared, ...only2]);
    const proc = await w.start();
    await w.converged(proc, 30_000, union(web1, web2));
    // The state saved (the dry run reads it, not the process).
    await waitFor(
      async () => (await readFile(join(w.stateDir, 'state.json'), 'utf8').catch(() => '')).includes('"web2"'),
      10_000,
      () => 'state.json never named web2',
    );

    const dry = await w.cli(['forget', 'web2', '-c', w.configPath, '--dry-run']);
    expect(dry.code, dry.output).toBe(0);
    expect(dry.stdout).toContain('would lift 3 addresses');
    for (const a of only2) expect(dry.stdout).toContain(`  ${a}\n`);
    for (const a of shared) expect(dry.stdout).not.toContain(`  ${a}\n`);
    expect(w.owned(GROUP_V4).size).toBe(6);

    const t0 = Date.now();
    const live = await w.cli(['forget', 'web2', '-c', w.configPath]);
    expect(live.code, live.output).toBe(0);
    expect(live.stdout).toContain('applied by the running sidecar');
    await w.converged(proc, 10_000, union(web1));
    expect(Date.now() - t0).toBeLessThan(10_000);

    const unknown = await w.cli(['forget', 'web9', '-c', w.configPath, '--dry-run']);
    expect(unknown.code).toBe(3);
    expect(unknown.stdout).toContain('web9 holds no bans');
  }, 120_000);

  // rsyslog delivers lines again after a reconnect (TCP its last one, RELP its whole session): here
  // the replay is appended as the central rsyslog writes it, live and across a kill -9 of the
  // sidecar (its filter then starts empty and is primed from the lines before the checkpoint).
  it("lines a host's transport delivers again are dropped: a replayed jail start lifts nothing after the restore grace", async () => {
    world = await startWorld({ logPath: PATTERN, windowMs: 100, restoreGraceMs: 1500 });
    const w = world;
    const file = join(w.dir, 'remote', 'web1', 'fail2ban.log');
    await mkdir(join(w.dir, 'remote', 'web1'), { recursive: true });
    let t = Date.UTC(2026, 11, 4, 12, 0, 0);
    const rsys = (logger: string, msg: string) =>
      `${new Date((t += 1)).toISOString().replace('Z', '000+00:00')} web1 fail2ban.${logger}[4242]: ${msg}`;
    const session = [
      rsys('server', 'INFO Starting Fail2ban v1.0.2'),
      rsys('jail', "INFO Jail 'sshd' started"),
      rsys('actions', 'NOTICE [sshd] Ban 192.0.2.1'),
      rsys('actions', 'NOTICE [sshd] Ban 192.0.2.2'),
    ];
    await writeFile(file, `${session.join('\n')}\n`);
    let proc = await w.start();
    const blocked = (...ips: string[]) => w.converged(proc, 20_000, { v4: new Set(ips), v6: new Set() });
    await blocked('192.0.2.1', '192.0.2.2');

    // Live: the session again, then a new ban.
    await appendFile(file, `${[...session, rsys('actions', 'NOTICE [sshd] Ban 192.0.2.3')].join('\n')}\n`);
    await blocked('192.0.2.1', '192.0.2.2', '192.0.2.3');
    // Across a restart: saved, killed, replayed while down.
    await w.caughtUpFile(file, proc);
    await proc.kill9();
    await appendFile(file, `${[...session, rsys('actions', 'NOTICE [sshd] Ban 192.0.2.4')].join('\n')}\n`);
    proc = await w.start();
    await blocked('192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4');
    // Longer than the restore grace: a replayed jail start taken for a restart would have lifted .1 and .2.
    await new Promise((r) => setTimeout(r, 3000));
    await blocked('192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4');
    expect(proc.output()).toContain('line delivered again by its transport');
    expect(proc.output()).not.toContain('without a stop');
  }, 120_000);
});
