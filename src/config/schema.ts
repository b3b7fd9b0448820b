/**
 * The config file's shape. Strict everywhere: a misspelt key is an error, not a silently ignored
 * setting. Field-level rules live here; rules that span fields are in ./cross.ts so they can
 * be reported together with the shape errors. Defaults of settings a room also applies on its
 * own (batching, retry, suspension, resync, connect timeout) are that room's constants, so the
 * config and a caller that leaves the option out get the same value.
 */
import { z } from 'zod';
import {
  DEFAULT_BATCH,
  DEFAULT_BREAKER,
  DEFAULT_MAX_LINE_AGE_MS,
  DEFAULT_MIN_PREFIX,
  DEFAULT_RESYNC_MS,
  DEFAULT_RETRY,
  DEFAULT_SUSPEND,
} from '../pipeline/index.js';
import { DEFAULT_CONNECT_TIMEOUT_MS } from '../xg/tls.js';
import { globToRegExp } from '../core/glob.js';
import { isLogPattern, parseLogPattern, PatternError } from '../tail/pattern.js';
import { parseNetwork } from '../core/network.js';

/** The XG's own name rules (no comma, no leading '#') within the smaller measured limit of 50. */
const xgName = z
  .string()
  .min(1)
  .max(50)
  .refine((s) => !s.includes(','), 'must not contain a comma')
  .refine((s) => !s.startsWith('#'), "must not start with '#' (reserved for the firewall's own objects)");

const int = (min: number, max: number) => z.int().min(min).max(max);

/** Relative paths would depend on the working directory, which is / under systemd. */
const absolutePath = z
  .string()
  .min(1)
  .refine((s) => s.startsWith('/'), 'must be an absolute path');

/** A single log, or a pattern whose every `*` stays within one path segment (tail/pattern.ts). */
const logPath = absolutePath.superRefine((s, ctx) => {
  if (!isLogPattern(s)) return;
  try {
    parseLogPattern(s);
  } catch (err) {
    ctx.addIssue({
      code: 'custom',
      message: err instanceof PatternError ? err.message.replace(/^log path pattern "[^"]*": /, '') : String(err),
    });
  }
});

/** Why not accept http://: the password travels in every request. */
const httpsUrl = z.string().superRefine((s, ctx) => {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'not a valid URL (expected https://HOST:4444/webconsole/APIController)' });
    return;
  }
  if (u.protocol !== 'https:') {
    ctx.addIssue({ code: 'custom', message: 'must use https:// (the API password is sent with every request)' });
  }
  if (u.username || u.password) {
    ctx.addIssue({ code: 'custom', message: 'must not contain credentials; use username and passwordFile/passwordEnv' });
  }
});

/** Marks the IP hosts this sidecar owns on a firewall (cross.ts checks prefixes for overlaps with it too). */
export const DEFAULT_HOST_PREFIX = 'f2b_';

export const FINGERPRINT_RE = /^(?:[0-9a-fA-F]{2}:?){31}[0-9a-fA-F]{2}$/;

const TlsSchema = z.strictObject({
  /** PEM file with the CA (or the certificate itself) to verify the firewall against. */
  caFile: absolutePath.optional(),
  fingerprint256: z
    .string()
    .refine((s) => FINGERPRINT_RE.test(s.trim()), 'must be a SHA-256 fingerprint: 32 hex bytes, colons optional')
    .optional(),
  insecure: z.boolean().default(false),
});

export const FirewallSchema = z.strictObject({
  url: httpsUrl,
  username: z.string().min(1),
  passwordFile: z.string().min(1).optional(),
  // A value that is not a variable name is most likely the password pasted in: the message must not repeat it.
  passwordEnv: z
    .string()
    .refine((s) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(s), 'must be the NAME of an environment variable (letters, digits, _)')
    .optional(),
  tls: TlsSchema.optional(),
  hostPrefix: z
    .string()
    .refine(
      (s) => /^[A-Za-z0-9][A-Za-z0-9_.-]{0,19}$/.test(s),
      "must be 1-20 characters: letters, digits, '_', '.', '-' (no comma, not starting with '#')",
    )
    .default(DEFAULT_HOST_PREFIX),
  requestTimeoutMs: int(1000, 600_000).default(30_000),
  connectTimeoutMs: int(100, 120_000).default(DEFAULT_CONNECT_TIMEOUT_MS),
  apiVersion: z
    .string()
    .refine((s) => /^\d{3,4}\.\d+$/.test(s), 'must look like "1905.1" (quote it in YAML)')
    .optional(),
  // Issue 12 (lists mode): with `lists`, each group's addresses live in owned IPList hosts of at
  // most `listSize` addresses, and `batchSize` counts lists per request (hosts mode: hosts per request).
  objects: z.enum(['lists', 'hosts']).default('lists'),
  listSize: int(1, 1000).default(1000),
  batchSize: int(1, 500).default(50),
});

const jailPattern = z
  .string()
  .min(1)
  .superRefine((s, ctx) => {
    try {
      globToRegExp(s);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `invalid glob: ${(err as Error).message}` });
    }
  });

export const GroupSchema = z.strictObject({
  name: xgName,
  ipv6Name: xgName.optional(),
  firewall: z.string().min(1),
  jails: z.array(jailPattern).min(1),
});

const cidr = z.string().refine((s) => parseNetwork(s.trim()) !== undefined, 'not an IP address or CIDR network');

/** Addresses a ban must never put on the firewall: loopback, link-local, private and ULA ranges. */
export const DEFAULT_NEVER_BLOCK = [
  '127.0.0.0/8',
  '::1/128',
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '169.254.0.0/16',
  'fe80::/10',
  'fc00::/7',
];

export const ConfigSchema = z.strictObject({
  log: z
    .strictObject({
      // A `*` makes it a fleet (issue 13): one source per matching file, named by the first `*`.
      path: logPath.default('/var/log/fail2ban.log'),
      startAt: z.enum(['end', 'beginning']).default('end'),
      // A line this much older than the newest one seen is history (a log replaced by an old one):
      // its bans and unbans are not taken as live. 0 turns the check off.
      maxLineAgeMs: int(0, 3650 * 86_400_000).default(DEFAULT_MAX_LINE_AGE_MS),
    })
    .prefault({}),
  stateDir: absolutePath.default('/var/lib/f2b-sophosxg'),
  firewalls: z.record(z.string(), FirewallSchema),
  groups: z.array(GroupSchema).min(1),
  neverBlock: z.array(cidr).default(DEFAULT_NEVER_BLOCK),
  // The floor under ban targets (pipeline/floor.ts): networks wider than these are never sent.
  guards: z
    .strictObject({
      minPrefix: z
        .strictObject({ ipv4: int(0, 32).default(DEFAULT_MIN_PREFIX.IPv4), ipv6: int(0, 128).default(DEFAULT_MIN_PREFIX.IPv6) })
        .prefault({}),
    })
    .prefault({}),
  batch: z
    .strictObject({
      windowMs: int(1, 60_000).default(DEFAULT_BATCH.windowMs),
      maxSize: int(1, 1000).default(DEFAULT_BATCH.maxSize),
      leading: z.boolean().default(DEFAULT_BATCH.leading),
    })
    .prefault({}),
  retry: z
    .strictObject({
      initialDelayMs: int(1, 3_600_000).default(DEFAULT_RETRY.initialDelayMs),
      maxDelayMs: int(1, 86_400_000).default(DEFAULT_RETRY.maxDelayMs),
      multiplier: z.number().min(1).max(10).default(DEFAULT_RETRY.multiplier),
      jitter: z.number().min(0).max(1).default(DEFAULT_RETRY.jitter),
      // Whole-firewall failures (unreachable, API off, login refused) are probed at least this often.
      probeMaxDelayMs: int(100, 3_600_000).default(DEFAULT_RETRY.probeMaxDelayMs ?? 5000),
    })
    .prefault({}),
  // Removals no Unban line asked for (orphans) beyond these limits are held for the operator.
  breaker: z
    .strictObject({
      enabled: z.boolean().default(true),
      minCount: int(0, 10_000_000).default(DEFAULT_BREAKER.minCount),
      maxShare: z.number().min(0).max(1).default(DEFAULT_BREAKER.maxShare),
      maxCount: int(0, 10_000_000).default(DEFAULT_BREAKER.maxCount),
      windowMs: int(0, 86_400_000).default(DEFAULT_BREAKER.windowMs),
    })
    .prefault({}),
  suspend: z
    .strictObject({
      restoreGraceMs: int(0, 3_600_000).default(DEFAULT_SUSPEND.restoreGraceMs),
      stopUnbanWindowMs: int(0, 600_000).default(DEFAULT_SUSPEND.stopUnbanWindowMs),
      maxSuspendMs: int(0, 30 * 86_400_000).default(DEFAULT_SUSPEND.maxSuspendMs),
    })
    .prefault({}),
  // Hand edits on the firewall (and a firewall restored from a backup) are repaired at the next
  // full re-read; shorter means sooner repairs for one Get of the owned hosts per interval.
  reconcile: z.strictObject({ resyncIntervalMs: int(10_000, 86_400_000).default(DEFAULT_RESYNC_MS) }).prefault({}),
  seedFromClient: z.boolean().default(false),
  metrics: z
    .strictObject({
      listen: z.string().refine((s) => parseListen(s) !== undefined, 'must be HOST:PORT, e.g. "127.0.0.1:9617" or "[::1]:9617"'),
    })
    .optional(),
  health: z.strictObject({ unreachableAfterMs: int(1000, 86_400_000).default(300_000) }).prefault({}),
  logging: z
    .strictObject({
      level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
      format: z.enum(['text', 'json']).default('text'),
    })
    .prefault({}),
  fail2banClient: z
    .strictObject({
      path: z.string().min(1).default('fail2ban-client'),
      args: z.array(z.string()).default([]),
    })
    .prefault({}),
});

export type Config = z.output<typeof ConfigSchema>;
export type FirewallConfig = z.output<typeof FirewallSchema>;
export type GroupConfig = z.output<typeof GroupSchema>;
export type TlsConfig = z.output<typeof TlsSchema>;

/** "HOST:PORT" / "[V6]:PORT" → parts; undefined when malformed. */
export function parseListen(s: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(s);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65_535) return undefined;
  return { host: (m[1] ?? m[2]) as string, port };
}
