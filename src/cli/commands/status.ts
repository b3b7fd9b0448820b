/**
 * `f2b-sophosxg status [--json]`: what the running sidecar last reported (status.json in the
 * state directory, rewritten at most once a second): per group desired and firewall counts,
 * pending operations, last success and last error.
 */
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../../config/index.js';
import { STATUS_FILE } from '../../app/runtime.js';
import { describeWriter, processAlive } from '../../app/status-file.js';
import type { StatusSnapshot } from '../../metrics/status.js';
import { DEFAULT_CONFIG, type CliDeps, type CommandModule } from '../deps.js';

export interface StatusArgs {
  config: string;
  json?: boolean;
}

export async function run(args: StatusArgs, deps: CliDeps): Promise<number> {
  const config = await loadConfig(args.config);
  const file = join(config.stateDir, STATUS_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new Error(`no status at ${file} (${code}): is the sidecar running with this config?`);
  }
  const s = JSON.parse(text) as StatusSnapshot & { updatedAt?: string; pid?: number };
  const writer = describeWriter(s, Date.now(), processAlive);
  if (args.json) {
    deps.stdout.write(`${JSON.stringify({ ...s, writer: { ageMs: writer.ageMs, running: writer.running } })}\n`);
    return 0;
  }
  const out: string[] = [`status of ${config.stateDir} (updated ${s.updatedAt ?? '?'})`, writer.line];
  for (const f of s.firewalls) {
    out.push(
      `firewall ${f.name}: ${f.state && f.state !== 'ok' && f.state !== 'unreachable' ? f.state.toUpperCase() : f.reachable ? 'reachable' : 'UNREACHABLE'}, last contact ${f.lastContact ?? 'never'}` +
        (f.permanentError ? `, ERROR ${f.permanentError.code ?? ''} ${f.permanentError.message}` : ''),
    );
  }
  for (const g of s.groups) {
    out.push(
      `  ${g.group} (${g.family}): desired ${g.desired}, on firewall ${g.applied}, pending +${g.pendingAdds}/-${g.pendingRemoves}, held ${g.suspended}${g.suspended ? ' (unbans waiting to see whether fail2ban restarts, or jails stopped: still blocked)' : ''}, last success ${g.lastSuccess ?? 'never'}` +
        (g.objects ? `, objects: ${objectsText(g.objects)}` : '') +
        (g.lastError ? `, last error ${g.lastError.code ?? ''} ${g.lastError.message} at ${g.lastError.at}` : '') +
        (g.enforced === false ? ', NOT ENFORCED (no enabled Drop/Reject rule uses it as a source)' : ''),
    );
  }
  for (const h of s.holds ?? [])
    out.push(
      `  HELD ${h.count} removals in ${h.group} since ${h.since}: ${h.reason}\n    release with: f2b-sophosxg release -c ${args.config} ${h.token}`,
    );
  for (const e of s.setAside ?? [])
    out.push(`  SET ASIDE ${e.op} ${e.address} in ${e.group} (${e.code}) since ${e.since}, next try ${e.retryAt}`);
  out.push(`log ${s.log.path}: ${s.log.readable ? 'readable' : 'UNREADABLE'}, last line ${s.log.lastLineAt ?? 'none yet'}`);
  for (const x of s.sources ?? [])
    out.push(
      `  source ${x.name}: holds ${x.bans} bans, ${x.events} events since start, last line ${x.lastLineAt ?? 'none since start'}` +
        (x.path !== undefined ? `, file ${x.path}` : '') +
        (x.silent ? `, SILENT (retired? f2b-sophosxg forget -c ${args.config} ${x.name} lifts the bans only it holds)` : ''),
    );
  deps.stdout.write(`${out.join('\n')}\n`);
  const healthy = writer.running !== false && s.firewalls.every((f) => f.reachable && !f.permanentError) && s.log.readable;
  return healthy ? 0 : 1;
}

/** "3 lists (max 1000, mean 834 addresses per list) + 2 hosts": objects used and addresses per object. */
function objectsText(o: NonNullable<StatusSnapshot['groups'][number]['objects']>): string {
  const lists = o.lists > 0 || o.mode === 'lists' ? `${o.lists} lists (max ${o.maxPerList}, mean ${o.meanPerList} addresses per list)` : '';
  const hosts = o.hosts > 0 || o.mode === 'hosts' ? `${o.hosts} hosts (1 address each)` : '';
  return [lists, hosts].filter(Boolean).join(' + ');
}

export function register(program: Command, deps: CliDeps, invoke: (run: () => Promise<number>) => Promise<void>): void {
  program
    .command('status')
    .description('show what the running sidecar last reported, per group')
    .option('-c, --config <file>', 'config file', DEFAULT_CONFIG)
    .option('--json', 'one JSON object')
    .action((opts: StatusArgs) => invoke(() => run(opts, deps)));
}

export const command: CommandModule = { register };
