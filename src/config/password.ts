/**
 * Where the firewall password comes from. Errors name the file or the variable, never a value.
 * A relative passwordFile is a systemd credential name (LoadCredential=/LoadCredentialEncrypted=)
 * resolved against $CREDENTIALS_DIRECTORY, so the unit file and the config agree on one name.
 */
import { readFile as fsReadFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { PasswordError } from './errors.js';
import type { FirewallConfig } from './schema.js';

export type ReadTextFile = (path: string, encoding: 'utf8') => Promise<string>;

export async function resolvePassword(
  fw: Pick<FirewallConfig, 'passwordFile' | 'passwordEnv'>,
  env: NodeJS.ProcessEnv,
  readFile: ReadTextFile = (p, e) => fsReadFile(p, e),
): Promise<string> {
  if (fw.passwordFile !== undefined) {
    const file = passwordPath(fw.passwordFile, env);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
      throw new PasswordError(`cannot read the password file ${file}: ${code}`, { cause: err });
    }
    // Editors and `echo` add one newline; anything else is taken as part of the password.
    const password = text.replace(/\r?\n$/, '');
    if (password === '') throw new PasswordError(`the password file ${file} is empty`);
    return password;
  }
  if (fw.passwordEnv !== undefined) {
    const value = env[fw.passwordEnv];
    if (value === undefined) throw new PasswordError(`the environment variable ${fw.passwordEnv} (passwordEnv) is not set`);
    if (value === '') throw new PasswordError(`the environment variable ${fw.passwordEnv} (passwordEnv) is empty`);
    return value;
  }
  throw new PasswordError('no passwordFile or passwordEnv configured');
}

function passwordPath(file: string, env: NodeJS.ProcessEnv): string {
  if (isAbsolute(file)) return file;
  const dir = env.CREDENTIALS_DIRECTORY;
  if (!dir) {
    throw new PasswordError(
      `passwordFile ${file} is relative, which names a systemd credential, but $CREDENTIALS_DIRECTORY is not set (LoadCredential= in the unit, or use an absolute path)`,
    );
  }
  return join(dir, file);
}
