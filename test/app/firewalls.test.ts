// buildFirewalls and passwordEnv: the variable leaves the process environment once read (issue 11).
import { afterEach, describe, expect, it } from 'vitest';
import { buildFirewalls, closeAll } from '../../src/app/firewalls.js';
import { parseConfig } from '../../src/config/index.js';

const VAR = 'F2B_TEST_FIREWALLS_PASSWORD';
const config = (passwordEnv: string) =>
  parseConfig(
    [
      'log: { path: /tmp/f2b-none.log }',
      'stateDir: /tmp/f2b-none-state',
      `firewalls: { main: { url: "https://127.0.0.1:4444", username: a, passwordEnv: ${passwordEnv} } }`,
      'groups: [ { name: g4, firewall: main, jails: ["*"] } ]',
    ].join('\n'),
    '(test)',
  );
const log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

afterEach(() => {
  delete process.env[VAR];
});

describe('buildFirewalls with passwordEnv', () => {
  it('deletes the variable from process.env once read, and reports the password as a secret', async () => {
    process.env[VAR] = 'pw-from-env';
    const secrets: string[] = [];
    const built = await buildFirewalls(config(VAR), { env: process.env, log, onSecret: (s) => secrets.push(s) });
    expect(process.env[VAR]).toBeUndefined();
    expect(Object.keys(process.env)).not.toContain(VAR);
    expect(secrets).toEqual(['pw-from-env']);
    await closeAll(built);
  });

  it('leaves an environment object other than process.env alone (tests, embedders)', async () => {
    const env = { [VAR]: 'pw' };
    const built = await buildFirewalls(config(VAR), { env, log });
    expect(env[VAR]).toBe('pw');
    await closeAll(built);
  });
});
