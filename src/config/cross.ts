/**
 * Rules that span fields. They run on the raw document, next to the schema, so one pass reports
 * a misspelt key and a dangling firewall reference together; every access is guarded because
 * the document may be malformed anywhere.
 */
import { DEFAULT_HOST_PREFIX } from './schema.js';

export interface RawIssue {
  path: (string | number)[];
  message: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

const FIREWALL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function crossCheck(raw: unknown): RawIssue[] {
  const issues: RawIssue[] = [];
  if (!isObj(raw)) return issues;
  const firewalls = isObj(raw.firewalls) ? raw.firewalls : undefined;
  if (firewalls) checkFirewalls(firewalls, issues);
  if (Array.isArray(raw.groups)) checkGroups(raw.groups, firewalls, issues);
  // fail2ban-client answers for this host only: in a fleet it would seed bans under no source.
  const logPath = isObj(raw.log) ? str(raw.log.path) : undefined;
  if (raw.seedFromClient === true && logPath?.includes('*')) {
    issues.push({
      path: ['seedFromClient'],
      message: "not with a log.path pattern (a fleet): fail2ban-client knows only this host's bans",
    });
  }
  if (isObj(raw.retry)) {
    const { initialDelayMs: a, maxDelayMs: b } = raw.retry;
    if (typeof a === 'number' && typeof b === 'number' && b < a) {
      issues.push({ path: ['retry', 'maxDelayMs'], message: `must be at least initialDelayMs (${a})` });
    }
  }
  return issues;
}

function checkFirewalls(firewalls: Obj, issues: RawIssue[]): void {
  const names = Object.keys(firewalls);
  if (names.length === 0) issues.push({ path: ['firewalls'], message: 'define at least one firewall' });
  // Hosts are owned by prefix: two entries on one firewall whose prefixes nest would delete each other's hosts.
  const seen: { name: string; origin: string; prefix: string }[] = [];
  for (const name of names) {
    const fw = firewalls[name];
    if (!FIREWALL_NAME.test(name)) {
      issues.push({ path: ['firewalls', name], message: "firewall name must be 1-64 characters: letters, digits, '_', '.', '-'" });
    }
    if (!isObj(fw)) continue;
    const hasFile = fw.passwordFile !== undefined;
    const hasEnv = fw.passwordEnv !== undefined;
    if (hasFile && hasEnv) {
      issues.push({
        path: ['firewalls', name, 'passwordEnv'],
        message: 'passwordFile is set too: set exactly one of passwordFile and passwordEnv',
      });
    } else if (!hasFile && !hasEnv) {
      issues.push({ path: ['firewalls', name], message: 'set one of passwordFile and passwordEnv' });
    }
    if (isObj(fw.tls) && fw.tls.insecure === true && (fw.tls.caFile !== undefined || fw.tls.fingerprint256 !== undefined)) {
      issues.push({
        path: ['firewalls', name, 'tls', 'insecure'],
        message: 'insecure: true contradicts caFile/fingerprint256; remove one of them',
      });
    }
    const url = str(fw.url);
    let origin: string | undefined;
    try {
      origin = url !== undefined ? new URL(url).host.toLowerCase() : undefined;
    } catch {
      origin = undefined;
    }
    const prefix = fw.hostPrefix === undefined ? DEFAULT_HOST_PREFIX : str(fw.hostPrefix);
    if (origin === undefined || prefix === undefined) continue;
    for (const other of seen) {
      if (other.origin === origin && (other.prefix.startsWith(prefix) || prefix.startsWith(other.prefix))) {
        issues.push({
          path: ['firewalls', name, 'hostPrefix'],
          message: `"${prefix}" overlaps the prefix "${other.prefix}" of firewall ${other.name} on the same host; each must own its own hosts`,
        });
      }
    }
    seen.push({ name, origin, prefix });
  }
}

function checkGroups(groups: unknown[], firewalls: Obj | undefined, issues: RawIssue[]): void {
  const known = firewalls ? Object.keys(firewalls) : [];
  const used = new Map<string, string>();
  groups.forEach((g, i) => {
    if (!isObj(g)) return;
    const fw = str(g.firewall);
    if (fw !== undefined && firewalls && !Object.hasOwn(firewalls, fw)) {
      issues.push({
        path: ['groups', i, 'firewall'],
        message: `unknown firewall "${fw}"${known.length ? ` (defined: ${known.join(', ')})` : ''}`,
      });
    }
    for (const field of ['name', 'ipv6Name'] as const) {
      const n = str(g[field]);
      if (n === undefined) continue;
      const key = `${fw ?? ''}\0${n}`;
      const prev = used.get(key);
      if (prev !== undefined) {
        issues.push({ path: ['groups', i, field], message: `group "${n}" is already used by ${prev}${fw ? ` on firewall ${fw}` : ''}` });
      } else used.set(key, `groups[${i}].${field}`);
    }
  });
}
