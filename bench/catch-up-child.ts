/**
 * The measured process of bench/catch-up.ts: the sidecar's own runtime (`startRuntime`, as `run`
 * starts it, from the build under test) on a config whose firewall is a fake port (HeldPort) that
 * already holds every address the log bans. Prints one JSON line: time and CPU from the call of
 * startRuntime (modules loaded: under the tsx loader their loading measures tsx, not the sidecar)
 * until the state file holds the checkpoint of the log's last line.
 *
 *   node --optimize-for-size --import tsx bench/catch-up-child.ts DIST_ROOT CONFIG ADDRESSES_JSON
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [distRoot, configPath, addressesPath] = process.argv.slice(2) as [string, string, string];
const load = <T>(rel: string): Promise<T> => import(pathToFileURL(join(distRoot, rel)).href) as Promise<T>;

interface Runtime {
  stop(): Promise<void>;
}
type StartRuntime = (o: Record<string, unknown>) => Promise<Runtime>;
interface Config {
  stateDir: string;
  log: { path: string };
  logging: { level: string; format: string };
  firewalls: Record<string, unknown>;
  groups: { name: string; ipv6Name?: string; firewall: string }[];
}
interface GroupRef {
  name: string;
  family: string;
}

/**
 * The firewall: a fake port holding sets of addresses. Not src/xg/memory.ts: that fake models the
 * XG's objects and checks every host per new host, which at 128,000 hosts took a third of the
 * catch-up's CPU (measured), i.e. it measured the fake. Counts what a real firewall would be asked.
 */
class HeldPort {
  readonly groups = new Map<string, Set<string>>();
  readonly asked = { adds: 0, removes: 0, writes: 0 };

  async checkLogin(): Promise<void> {}
  async ensureGroup(g: GroupRef): Promise<void> {
    if (!this.groups.has(g.name)) this.groups.set(g.name, new Set());
  }
  async readGroup(g: GroupRef): Promise<{ exists: boolean; owned: Set<string>; foreign: number }> {
    const held = this.groups.get(g.name);
    return { exists: held !== undefined, owned: new Set(held), foreign: 0 };
  }
  async addToGroup(g: GroupRef, addresses: readonly string[]): Promise<void> {
    const held = this.groups.get(g.name) as Set<string>;
    this.asked.adds += addresses.length;
    if (addresses.some((a) => !held.has(a))) this.asked.writes++;
    for (const a of addresses) held.add(a);
  }
  async removeFromGroup(g: GroupRef, addresses: readonly string[]): Promise<void> {
    const held = this.groups.get(g.name) as Set<string>;
    this.asked.removes += addresses.length;
    if (addresses.some((a) => held.has(a))) this.asked.writes++;
    for (const a of addresses) held.delete(a);
  }
  async listOwnedHosts(): Promise<never[]> {
    return [];
  }
  async close(): Promise<void> {}
}

/**
 * Offset of the saved checkpoint. Only the file's end is read: the checkpoint is written after the
 * model, and reading the whole multi-MB file at every save cost this process 3% of its CPU.
 */
function savedOffset(file: string): number | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const size = fstatSync(fd).size;
    const tail = Buffer.alloc(Math.min(size, 4096));
    readSync(fd, tail, 0, tail.length, size - tail.length);
    const text = tail.toString('latin1');
    const at = text.lastIndexOf('"checkpoint"');
    const m = at < 0 ? null : /"offset"\s*:\s*(\d+)/.exec(text.slice(at));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Resolves with the mtime of the first state file that holds the checkpoint `size`, and the saves seen. */
function savedAt(stateFile: string, size: number): Promise<{ at: number; saves: number }> {
  return new Promise((resolve) => {
    let last = 0;
    let saves = 0;
    const timer = setInterval(() => {
      let mtime: number;
      try {
        mtime = statSync(stateFile).mtimeMs;
      } catch {
        return;
      }
      if (mtime === last) return;
      last = mtime;
      saves++;
      if (savedOffset(stateFile) !== size) return;
      clearInterval(timer);
      resolve({ at: mtime, saves });
    }, 10);
  });
}

async function main(): Promise<void> {
  const addresses = JSON.parse(readFileSync(addressesPath, 'utf8')) as { v4: string[]; v6: string[] };
  const { loadConfig } = await load<{ loadConfig(p: string): Promise<Config> }>('src/config/index.js');
  const config = await loadConfig(configPath);
  const fwName = Object.keys(config.firewalls)[0] as string;
  const group = config.groups[0] as Config['groups'][number];
  const port = new HeldPort();
  port.groups.set(group.name, new Set(addresses.v4));
  if (group.ipv6Name !== undefined) port.groups.set(group.ipv6Name, new Set(addresses.v6));
  const size = statSync(config.log.path).size;

  const { startRuntime } = await load<{ startRuntime: StartRuntime }>('src/app/runtime.js');
  const { createLogger } = await load<{ createLogger(o: Record<string, unknown>): unknown }>('src/util/log.js');
  const t0 = Date.now();
  const cpu0 = process.cpuUsage();
  const log = createLogger({ level: config.logging.level, format: config.logging.format, destination: process.stderr });
  const saved = savedAt(join(config.stateDir, 'state.json'), size);
  const runtime = await startRuntime({
    config,
    log,
    env: process.env,
    onSecret: () => undefined,
    ports: new Map([[fwName, port]]),
    version: 'bench',
    follow: true,
  });
  const { at, saves } = await saved;
  const cpu = process.cpuUsage(cpu0);
  const { adds, removes, writes } = port.asked;
  await runtime.stop();
  process.stdout.write(`${JSON.stringify({ ms: at - t0, cpuMs: (cpu.user + cpu.system) / 1000, saves, writes, adds, removes })}\n`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
});
