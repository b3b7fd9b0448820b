import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_NEVER_BLOCK, loadConfig, parseConfig } from '../../src/config/index.js';
import { DEFAULT_BATCH, DEFAULT_RESYNC_MS, DEFAULT_RETRY, DEFAULT_SUSPEND } from '../../src/pipeline/index.js';
import { DEFAULT_CONNECT_TIMEOUT_MS } from '../../src/xg/tls.js';

const EXAMPLE = fileURLToPath(new URL('../../config.example.yaml', import.meta.url));

/** Minimal valid config; line numbers below refer to it. */
const BASE = `firewalls:
  main:
    url: https://192.0.2.1:4444/webconsole/APIController
    username: api
    passwordFile: /etc/xg-pass
groups:
  - name: f2b_blockings
    firewall: main
    jails: ["*"]
`;

function errorLines(text: string, file = 'c.yaml'): string[] {
  try {
    parseConfig(text, file);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.retryable).toBe(false);
    expect(e.message.split('\n')).toHaveLength(e.issues.length);
    return e.message.split('\n');
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig: valid files', () => {
  it('parses the shipped example with every documented key', async () => {
    const c = await loadConfig(EXAMPLE);
    expect(c.log).toEqual({ path: '/var/log/fail2ban.log', startAt: 'end', maxLineAgeMs: 86_400_000 });
    expect(c.guards).toEqual({ minPrefix: { ipv4: 16, ipv6: 32 } });
    const fw = c.firewalls.main;
    expect(fw?.url).toBe('https://192.0.2.1:4444/webconsole/APIController');
    expect(fw?.tls?.fingerprint256).toMatch(/^AB:CD/);
    expect(fw?.hostPrefix).toBe('f2b_');
    expect(fw?.batchSize).toBe(50);
    expect(fw).toMatchObject({ objects: 'lists', listSize: 1000 });
    expect(c.groups).toEqual([{ name: 'f2b_blockings', ipv6Name: 'f2b_blockings6', firewall: 'main', jails: ['*'] }]);
    expect(c.neverBlock).toEqual(DEFAULT_NEVER_BLOCK);
    expect(c.retry).toEqual({ initialDelayMs: 1000, maxDelayMs: 300000, multiplier: 2, jitter: 0.2, probeMaxDelayMs: 5000 });
    expect(c.breaker).toEqual({ enabled: true, minCount: 5, maxShare: 0.2, maxCount: 1000, windowMs: 600000 });
    expect(c.suspend).toEqual({ restoreGraceMs: 60000, stopUnbanWindowMs: 5000, maxSuspendMs: 86400000 });
    expect(c.metrics).toBeUndefined();
    expect(c.logging).toEqual({ level: 'info', format: 'text' });
  });

  it('takes the defaults the pipeline and the XG transport apply themselves, so both agree', () => {
    const c = parseConfig(BASE, 'c.yaml');
    expect(c.batch).toEqual(DEFAULT_BATCH);
    expect(c.retry).toEqual(DEFAULT_RETRY);
    expect(c.suspend).toEqual(DEFAULT_SUSPEND);
    expect(c.reconcile.resyncIntervalMs).toBe(DEFAULT_RESYNC_MS);
    expect(c.firewalls.main?.connectTimeoutMs).toBe(DEFAULT_CONNECT_TIMEOUT_MS);
  });

  it('applies defaults to a minimal file', () => {
    const c = parseConfig(BASE, 'c.yaml');
    expect(c.stateDir).toBe('/var/lib/f2b-sophosxg');
    expect(c.log.startAt).toBe('end');
    expect(c.batch).toEqual({ windowMs: 1000, maxSize: 50, leading: true });
    expect(c.firewalls.main).toMatchObject({ hostPrefix: 'f2b_', requestTimeoutMs: 30000, connectTimeoutMs: 10000, batchSize: 50 });
    expect(c.firewalls.main?.tls).toBeUndefined();
    expect(c.seedFromClient).toBe(false);
    expect(c.fail2banClient).toEqual({ path: 'fail2ban-client', args: [] });
    expect(c.health.unreachableAfterMs).toBe(300000);
    expect(c.reconcile).toEqual({ resyncIntervalMs: 600000 });
  });

  it('log.path as a fleet pattern (issue 13): accepted; ** and other wildcards refused at their line; no seedFromClient with it', () => {
    expect(parseConfig(`log: { path: /var/log/remote/*/fail2ban.log }\n${BASE}`, 'c.yaml').log.path).toBe('/var/log/remote/*/fail2ban.log');
    expect(errorLines(`log:\n  path: /var/log/remote/**/f.log\n${BASE}`)).toEqual([
      'c.yaml:2 log.path: `**` is not supported: a `*` matches within one path segment only',
    ]);
    expect(errorLines(`log:\n  path: /var/log/remote/web?/*.log\n${BASE}`)[0]).toMatch(/^c\.yaml:2 log\.path: only `\*` is a wildcard/);
    expect(errorLines(`log:\n  path: /var/log/remote/*/f.log\nseedFromClient: true\n${BASE}`)).toEqual([
      "c.yaml:3 seedFromClient: not with a log.path pattern (a fleet): fail2ban-client knows only this host's bans",
    ]);
  });

  it('reconcile.resyncIntervalMs: set, and refused below 10 s with its key and line', () => {
    expect(parseConfig(BASE + 'reconcile: { resyncIntervalMs: 60000 }\n', 'c.yaml').reconcile.resyncIntervalMs).toBe(60000);
    const err = (() => {
      try {
        parseConfig(BASE + 'reconcile:\n  resyncIntervalMs: 5\n', 'c.yaml');
      } catch (e) {
        return String((e as Error).message);
      }
      return '';
    })();
    expect(err).toMatch(/c\.yaml:\d+ reconcile\.resyncIntervalMs: /);
  });

  it('firewalls.NAME.objects / listSize (issue 12): lists of 1000 by default, hosts on request, bad values refused at their line', () => {
    expect(parseConfig(BASE, 'c.yaml').firewalls.main).toMatchObject({ objects: 'lists', listSize: 1000 });
    const withKeys = BASE.replace(
      '    passwordFile: /etc/xg-pass\n',
      '    passwordFile: /etc/xg-pass\n    objects: hosts\n    listSize: 250\n',
    );
    expect(parseConfig(withKeys, 'c.yaml').firewalls.main).toMatchObject({ objects: 'hosts', listSize: 250 });
    const bad = BASE.replace(
      '    passwordFile: /etc/xg-pass\n',
      '    passwordFile: /etc/xg-pass\n    objects: iplist\n    listSize: 1001\n',
    );
    const lines = errorLines(bad);
    expect(lines.some((l) => /^c\.yaml:6 firewalls\.main\.objects: /.test(l))).toBe(true);
    expect(lines.some((l) => /^c\.yaml:7 firewalls\.main\.listSize: /.test(l))).toBe(true);
    expect(errorLines(BASE.replace('    passwordFile: /etc/xg-pass\n', '    passwordFile: /etc/xg-pass\n    listSize: 0\n'))[0]).toMatch(
      /firewalls\.main\.listSize/,
    );
  });

  it('accepts passwordEnv, a CA file, colon-less fingerprints and metrics on IPv6', () => {
    const text =
      BASE.replace(
        'passwordFile: /etc/xg-pass',
        'passwordEnv: XG_PASSWORD\n    tls: { caFile: /etc/ca.pem, fingerprint256: "' + 'ab'.repeat(32) + '" }',
      ) + 'metrics: { listen: "[::1]:9617" }\n';
    const c = parseConfig(text, 'c.yaml');
    expect(c.firewalls.main?.passwordEnv).toBe('XG_PASSWORD');
    expect(c.firewalls.main?.tls).toEqual({ caFile: '/etc/ca.pem', fingerprint256: 'ab'.repeat(32), insecure: false });
    expect(c.metrics?.listen).toBe('[::1]:9617');
  });
});

describe('parseConfig: every error at once, as FILE:LINE KEY: MESSAGE', () => {
  const cases: [string, string, string[]][] = [
    ['unknown top-level key', BASE + 'colour: blue\n', ['c.yaml:10 colour: unknown key']],
    [
      'unknown nested key, with a suggestion',
      BASE.replace('    username: api', '    username: api\n    passwordfile: /x'),
      ['c.yaml:5 firewalls.main.passwordfile: unknown key (did you mean passwordFile?)'],
    ],
    [
      'a password pasted into the config',
      BASE.replace('    username: api', '    username: api\n    password: hunter2'),
      ['c.yaml:5 firewalls.main.password: unknown key: never put the password in the config; use passwordFile or passwordEnv'],
    ],
    ['wrong type', BASE + 'batch:\n  windowMs: "1000"\n', ['c.yaml:11 batch.windowMs: expected a number, got a string']],
    [
      'fraction where an integer is needed',
      BASE + 'batch: { maxSize: 1.5 }\n',
      ['c.yaml:10 batch.maxSize: expected an integer, got a fraction'],
    ],
    ['out of range', BASE + 'batch: { windowMs: 0 }\n', ['c.yaml:10 batch.windowMs: must be at least 1']],
    [
      'missing required key (line of the parent)',
      BASE.replace('    username: api\n', ''),
      ['c.yaml:2 firewalls.main.username: missing (expected a string)'],
    ],
    ['missing groups (root line)', BASE.slice(0, BASE.indexOf('groups:')), ['c.yaml:1 groups: missing (expected a list)']],
    [
      'bad CIDR',
      BASE + 'neverBlock: [10.0.0.0/8, 10.0.0.300/8, "10"]\n',
      ['c.yaml:10 neverBlock[1]: not an IP address or CIDR network', 'c.yaml:10 neverBlock[2]: not an IP address or CIDR network'],
    ],
    [
      'unknown firewall reference',
      BASE.replace('firewall: main', 'firewall: backup'),
      ['c.yaml:8 groups[0].firewall: unknown firewall "backup" (defined: main)'],
    ],
    [
      'both passwordFile and passwordEnv',
      BASE.replace('    passwordFile: /etc/xg-pass', '    passwordFile: /etc/xg-pass\n    passwordEnv: XG_PASSWORD'),
      ['c.yaml:6 firewalls.main.passwordEnv: passwordFile is set too: set exactly one of passwordFile and passwordEnv'],
    ],
    [
      'neither passwordFile nor passwordEnv',
      BASE.replace('    passwordFile: /etc/xg-pass\n', ''),
      ['c.yaml:2 firewalls.main: set one of passwordFile and passwordEnv'],
    ],
    [
      'bad fingerprint',
      BASE.replace('    username: api', '    username: api\n    tls:\n      fingerprint256: "AB:CD"'),
      ['c.yaml:6 firewalls.main.tls.fingerprint256: must be a SHA-256 fingerprint: 32 hex bytes, colons optional'],
    ],
    [
      'insecure together with a pin',
      BASE.replace('    username: api', `    username: api\n    tls:\n      fingerprint256: "${'0f'.repeat(32)}"\n      insecure: true`),
      ['c.yaml:7 firewalls.main.tls.insecure: insecure: true contradicts caFile/fingerprint256; remove one of them'],
    ],
    [
      'plain http',
      BASE.replace('https://', 'http://'),
      ['c.yaml:3 firewalls.main.url: must use https:// (the API password is sent with every request)'],
    ],
    [
      'a password as passwordEnv is not echoed',
      BASE.replace('    passwordFile: /etc/xg-pass', '    passwordEnv: "s3cr3t pa55!"'),
      ['c.yaml:5 firewalls.main.passwordEnv: must be the NAME of an environment variable (letters, digits, _)'],
    ],
    [
      'bad hostPrefix',
      BASE.replace('    username: api', '    username: api\n    hostPrefix: "#f2b,"'),
      ["c.yaml:5 firewalls.main.hostPrefix: must be 1-20 characters: letters, digits, '_', '.', '-' (no comma, not starting with '#')"],
    ],
    ['empty jails list', BASE.replace('jails: ["*"]', 'jails: []'), ['c.yaml:9 groups[0].jails: must not be empty']],
    [
      'malformed jail glob',
      BASE.replace('jails: ["*"]', 'jails: [sshd, "ngin[x"]'),
      ['c.yaml:9 groups[0].jails[1]: invalid glob: "[" without a closing "]"'],
    ],
    [
      "group name reused as another group's IPv6 name",
      BASE + '  - name: f2b_other\n    ipv6Name: f2b_blockings\n    firewall: main\n    jails: [sshd]\n',
      ['c.yaml:11 groups[1].ipv6Name: group "f2b_blockings" is already used by groups[0].name on firewall main'],
    ],
    [
      'two firewall entries on one host with nested prefixes',
      BASE.replace(
        'groups:',
        '  web:\n    url: https://192.0.2.1:4444/\n    username: api2\n    passwordEnv: P\n    hostPrefix: f2b_web\ngroups:',
      ),
      [
        'c.yaml:10 firewalls.web.hostPrefix: "f2b_web" overlaps the prefix "f2b_" of firewall main on the same host; each must own its own hosts',
      ],
    ],
    [
      'relative paths',
      BASE + 'stateDir: state\nlog: { path: fail2ban.log }\n',
      ['c.yaml:10 stateDir: must be an absolute path', 'c.yaml:11 log.path: must be an absolute path'],
    ],
    ['a misspelt top-level key', BASE + 'neverblock: []\n', ['c.yaml:10 neverblock: unknown key (did you mean neverBlock?)']],
    [
      'a misspelt key inside a list item',
      BASE.replace('jails: ["*"]', 'jail: ["*"]'),
      ['c.yaml:7 groups[0].jails: missing (expected a list)', 'c.yaml:9 groups[0].jail: unknown key (did you mean jails?)'],
    ],
    ['enum value', BASE + 'log: { startAt: middle }\n', ['c.yaml:10 log.startAt: must be one of: end, beginning']],
    [
      'retry bounds inverted',
      BASE + 'retry: { initialDelayMs: 5000, maxDelayMs: 1000 }\n',
      ['c.yaml:10 retry.maxDelayMs: must be at least initialDelayMs (5000)'],
    ],
    ['not a mapping at all', '- a\n- b\n', ['c.yaml:1 expected a mapping, got a list']],
    ['empty file', '# nothing\n', ['c.yaml:1 the file is empty; see config.example.yaml']],
  ];
  it.each(cases)('%s', (_name, text, expected) => {
    expect(errorLines(text)).toEqual(expected);
  });

  it('reports many problems in one go, in file order', () => {
    const text = `log:
  path: 3
  follow: true
firewalls:
  main:
    url: http://192.0.2.1
    username: ""
    passwordFile: /p
    passwordEnv: P
groups:
  - name: a,b
    firewall: nope
    jails: ["*"]
neverBlock: [fe80::/129]
unknown: 1
`;
    expect(errorLines(text, '/etc/f2b/config.yaml')).toEqual([
      '/etc/f2b/config.yaml:2 log.path: expected a string, got a number',
      '/etc/f2b/config.yaml:3 log.follow: unknown key',
      '/etc/f2b/config.yaml:6 firewalls.main.url: must use https:// (the API password is sent with every request)',
      '/etc/f2b/config.yaml:7 firewalls.main.username: must not be empty',
      '/etc/f2b/config.yaml:9 firewalls.main.passwordEnv: passwordFile is set too: set exactly one of passwordFile and passwordEnv',
      '/etc/f2b/config.yaml:11 groups[0].name: must not contain a comma',
      '/etc/f2b/config.yaml:12 groups[0].firewall: unknown firewall "nope" (defined: main)',
      '/etc/f2b/config.yaml:14 neverBlock[0]: not an IP address or CIDR network',
      '/etc/f2b/config.yaml:15 unknown: unknown key',
    ]);
  });

  it('the error carries structured issues', () => {
    try {
      parseConfig(BASE + 'colour: blue\n', 'x.yaml');
      expect.unreachable();
    } catch (err) {
      expect((err as ConfigError).issues).toEqual([{ file: 'x.yaml', line: 10, key: 'colour', message: 'unknown key' }]);
    }
  });
});

describe('parseConfig: YAML syntax', () => {
  it('reports syntax errors with their line', () => {
    expect(errorLines('log:\n  path: /x\nstateDir:\n\t- /y\n')).toEqual(['c.yaml:4 YAML: Tabs are not allowed as indentation']);
    expect(errorLines(BASE + 'seedFromClient: @yes\n')).toEqual(['c.yaml:10 YAML: Plain value cannot start with reserved character @']);
  });

  it('reports an unclosed bracket or quote at its own line, not where the parser noticed it', () => {
    // The parser notices `[` / `{` / `"` left open only where the next key starts (line 4).
    const three = (value: string) => `log:\n  path: /x\nneverBlock: ${value}\nstateDir: /y\n`;
    expect(errorLines(three('[10.0.0.1, 10.0.0.2'))[0]).toMatch(/^c\.yaml:3 YAML: /);
    expect(errorLines(three('{a: 1'))[0]).toMatch(/^c\.yaml:3 YAML: /);
    expect(errorLines(three('"10.0.0.1'))[0]).toMatch(/^c\.yaml:3 YAML: Missing closing "quote/);
    // Spread over lines, still the opener's line; a closed one earlier does not capture the error.
    expect(errorLines(`log: { path: "/x" }\nneverBlock: [\n  10.0.0.1,\n  10.0.0.2\nstateDir: /y\n`)[0]).toMatch(/^c\.yaml:2 YAML: /);
  });

  it('reports duplicate keys at the duplicate', () => {
    expect(errorLines(BASE.replace('    username: api', '    username: api\n    username: other'))).toEqual([
      'c.yaml:5 YAML: Map keys must be unique',
    ]);
  });

  it('follows aliases to locate a problem', () => {
    const text = BASE + 'neverBlock: &nb [bogus]\nfail2banClient: { args: *nb }\n';
    expect(errorLines(text)).toEqual(['c.yaml:10 neverBlock[0]: not an IP address or CIDR network']);
  });
});

describe('loadConfig', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'f2b-config-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('names the file when it cannot be read', async () => {
    const file = join(dir, 'missing.yaml');
    await expect(loadConfig(file)).rejects.toThrow(
      new ConfigError([{ file, key: '', message: 'cannot read the config file: ENOENT (no such file or directory)' }]).message,
    );
    await expect(loadConfig(dir)).rejects.toBeInstanceOf(ConfigError);
  });

  it('reports errors with the real path', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, BASE + 'x: 1\n');
    await expect(loadConfig(file)).rejects.toThrow(`${file}:10 x: unknown key`);
  });
});
