// The README's fleet snippets are the contrib/rsyslog files, byte for byte (the e2e suite
// test/e2e/rsyslog-fleet.test.ts runs the files, so this is what makes the README tested too), and
// rsyslogd accepts each config as written (`rsyslogd -N1`: validation only, nothing is started).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { rsyslogAvailable, RSYSLOGD } from '../helpers/rsyslog.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const CONTRIB = join(REPO, 'contrib', 'rsyslog');
const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
const files = readdirSync(CONTRIB).sort();

/** `<!-- contrib/rsyslog/NAME -->` followed by a fenced block: NAME → the block's text. */
function readmeBlocks(): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of readme.matchAll(/<!-- contrib\/rsyslog\/(\S+) -->\n```\w*\n([\s\S]*?)```\n/g)) {
    out.set(m[1] ?? '', m[2] ?? '');
  }
  return out;
}

describe('contrib/rsyslog and the README Fleet section', () => {
  it('every snippet shown in the README is the contrib file, byte for byte', () => {
    const blocks = readmeBlocks();
    expect(blocks.size).toBeGreaterThanOrEqual(5);
    for (const [name, text] of blocks) expect(text, name).toBe(readFileSync(join(CONTRIB, name), 'utf8'));
  });

  it('every contrib file is shown or named in the README', () => {
    for (const name of files) expect(readme, name).toContain(`contrib/rsyslog/${name}`);
  });

  it('the fleet section names the sidecar glob and the forget command', () => {
    expect(readme).toContain('path: /var/log/remote/*/fail2ban.log');
    expect(readme).toContain('f2b-sophosxg forget web3 -c /etc/f2b-sophosxg/config.yaml --dry-run');
  });

  // rsyslogd -N1 checks syntax, module and parameter names; cert files are opened only at run time.
  it.skipIf(!rsyslogAvailable('tls') || !rsyslogAvailable('relp'))('rsyslogd -N1 accepts every host and central config', () => {
    const dir = mkdtempSync(join(tmpdir(), 'f2b-rsyslog-n1-'));
    try {
      const combos: Record<string, string[]> = {
        'host tls': ['fail2ban-forward-tls.conf'],
        'host relp': ['fail2ban-forward-relp.conf'],
        'central tls': ['central-files.conf', 'central-tls.conf'],
        'central relp': ['central-files.conf', 'central-relp.conf'],
      };
      // omrelp checks at config time that its certificate files can be read: empty stand-ins.
      for (const f of ['ca.pem', 'host.pem', 'host.key', 'central.pem', 'central.key']) writeFileSync(join(dir, f), '');
      for (const [what, parts] of Object.entries(combos)) {
        const conf = join(dir, `${what.replace(' ', '-')}.conf`);
        const text = parts.map((p) => readFileSync(join(CONTRIB, p), 'utf8')).join('\n');
        writeFileSync(conf, text.replaceAll('/etc/rsyslog-tls/', `${dir}/`));
        const res = spawnSync(RSYSLOGD, ['-N1', '-f', conf], { encoding: 'utf8', timeout: 20_000 });
        expect(res.status, `${what}: ${res.stdout}${res.stderr}`).toBe(0);
        expect(res.stderr + res.stdout, what).not.toMatch(/error|warning/i);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
