import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PasswordError, resolvePassword } from '../../src/config/index.js';

const SECRET = 's3cr&t<"pw>';

async function failure(p: Promise<unknown>): Promise<PasswordError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PasswordError);
  const e = err as PasswordError;
  expect(e.code).toBe('PASSWORD_UNAVAILABLE');
  expect(e.retryable).toBe(false);
  // Neither the message nor anything it carries may contain the password.
  expect(`${e.message}\n${e.stack ?? ''}\n${String((e.cause as Error | undefined)?.message)}`).not.toContain(SECRET);
  return e;
}

describe('resolvePassword', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'f2b-pw-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a file and trims exactly one trailing newline', async () => {
    const file = join(dir, 'pw1');
    await writeFile(file, `${SECRET}\n`);
    expect(await resolvePassword({ passwordFile: file }, {})).toBe(SECRET);
    await writeFile(file, `${SECRET}\r\n`);
    expect(await resolvePassword({ passwordFile: file }, {})).toBe(SECRET);
    await writeFile(file, ` ${SECRET} \n\n`);
    expect(await resolvePassword({ passwordFile: file }, {})).toBe(` ${SECRET} \n`);
  });

  it('reads from the environment', async () => {
    expect(await resolvePassword({ passwordEnv: 'XG_PW' }, { XG_PW: SECRET })).toBe(SECRET);
  });

  it('resolves a relative file against $CREDENTIALS_DIRECTORY (systemd credentials)', async () => {
    const creds = join(dir, 'credentials');
    await mkdir(creds);
    await writeFile(join(creds, 'xg-password'), SECRET);
    expect(await resolvePassword({ passwordFile: 'xg-password' }, { CREDENTIALS_DIRECTORY: creds })).toBe(SECRET);
  });

  it('a relative file without $CREDENTIALS_DIRECTORY is an error naming it', async () => {
    const e = await failure(resolvePassword({ passwordFile: 'xg-password' }, { XG: SECRET }));
    expect(e.message).toContain('xg-password');
    expect(e.message).toContain('CREDENTIALS_DIRECTORY');
  });

  it('a missing file is an error naming the file and the errno, not the password', async () => {
    const file = join(dir, 'absent');
    const e = await failure(resolvePassword({ passwordFile: file }, { XG_PW: SECRET }));
    expect(e.message).toBe(`cannot read the password file ${file}: ENOENT`);
  });

  it('an unreadable file (a directory) is an error', async () => {
    const e = await failure(resolvePassword({ passwordFile: dir }, {}));
    expect(e.message).toContain('EISDIR');
  });

  it.runIf(process.getuid?.() !== 0)('a file without read permission is an error', async () => {
    const file = join(dir, 'locked');
    await writeFile(file, SECRET);
    await chmod(file, 0);
    const e = await failure(resolvePassword({ passwordFile: file }, {}));
    expect(e.message).toContain('EACCES');
  });

  it('an empty file is an error', async () => {
    const file = join(dir, 'empty');
    await writeFile(file, '\n');
    const e = await failure(resolvePassword({ passwordFile: file }, {}));
    expect(e.message).toBe(`the password file ${file} is empty`);
  });

  it('an unset or empty variable is an error naming the variable', async () => {
    expect((await failure(resolvePassword({ passwordEnv: 'XG_PW' }, { OTHER: SECRET }))).message).toBe(
      'the environment variable XG_PW (passwordEnv) is not set',
    );
    expect((await failure(resolvePassword({ passwordEnv: 'XG_PW' }, { XG_PW: '' }))).message).toBe(
      'the environment variable XG_PW (passwordEnv) is empty',
    );
  });
});
