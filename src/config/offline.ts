/**
 * What `check --offline` can say beyond the schema without contacting a firewall: the inputs a
 * valid config names but this machine does not have (yet). Warnings, not errors: the password file
 * may be a systemd credential only the unit sees, and the sidecar waits for a log that is not
 * there yet; but a typo in either would otherwise pass the check without a word.
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { describeErrno } from '../util/errno.js';
import type { Config } from './schema.js';

export async function offlineWarnings(config: Pick<Config, 'firewalls' | 'log'>, env: NodeJS.ProcessEnv): Promise<string[]> {
  const warnings: string[] = [];
  for (const [name, fw] of Object.entries(config.firewalls)) {
    if (fw.passwordFile !== undefined) {
      const credDir = env['CREDENTIALS_DIRECTORY'];
      if (!isAbsolute(fw.passwordFile) && !credDir) {
        warnings.push(
          `firewall ${name}: passwordFile ${fw.passwordFile} is a systemd credential name; not checked outside the unit ($CREDENTIALS_DIRECTORY is not set)`,
        );
        continue;
      }
      const file = isAbsolute(fw.passwordFile) ? fw.passwordFile : join(credDir as string, fw.passwordFile);
      const why = await unreadable(file);
      if (why)
        warnings.push(
          `firewall ${name}: cannot read the password file ${file}: ${why} (fine if the systemd unit provides it; otherwise run will fail)`,
        );
    } else if (fw.passwordEnv !== undefined && !env[fw.passwordEnv]) {
      warnings.push(`firewall ${name}: the environment variable ${fw.passwordEnv} (passwordEnv) is not set here`);
    }
  }
  const why = await unreadable(config.log.path);
  if (why) warnings.push(`cannot read log.path ${config.log.path}: ${why} (run waits for it to appear and become readable)`);
  return warnings;
}

async function unreadable(path: string): Promise<string | undefined> {
  try {
    await access(path, constants.R_OK);
    return undefined;
  } catch (err) {
    return describeErrno(err);
  }
}
