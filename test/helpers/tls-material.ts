// Test-time TLS material for the rsyslog fleet harness: a CA, a server certificate for the central
// host and client certificates for the fail2ban hosts, made with the openssl binary (P-256 keys,
// valid 2 days). Names are DNS names: the central's x509/name check and the hosts' permittedPeer
// lists compare them with the certificates' subjectAltName.
import { execFile, spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface CertFiles {
  readonly cert: string;
  readonly key: string;
}

export interface TlsMaterial {
  readonly dir: string;
  readonly caFile: string;
  /** Certificate + key for a name given to makeTlsMaterial(). */
  of(name: string): CertFiles;
}

export function opensslAvailable(): boolean {
  return spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;
}

function openssl(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { timeout: 30_000 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`openssl ${args[0] ?? ''}: ${err.message}\n${stderr}`, { cause: err }));
      else resolve();
    });
  });
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/**
 * Writes ca.pem/ca.key and NAME.pem/NAME.key for each name into `dir`. `servers` get serverAuth
 * (and clientAuth), the others clientAuth only.
 */
export async function makeTlsMaterial(dir: string, servers: readonly string[], clients: readonly string[]): Promise<TlsMaterial> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const caFile = join(dir, 'ca.pem');
  const caKey = join(dir, 'ca.key');
  await openssl([
    'req',
    '-x509',
    ...EC,
    '-keyout',
    caKey,
    '-out',
    caFile,
    '-days',
    '2',
    '-subj',
    '/CN=f2b-sophosxg test fleet CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  const files = new Map<string, CertFiles>();
  const issue = async (name: string, eku: string): Promise<void> => {
    const cert = join(dir, `${name}.pem`);
    const key = join(dir, `${name}.key`);
    const csr = join(dir, `${name}.csr`);
    const ext = join(dir, `${name}.ext`);
    await openssl(['req', ...EC, '-keyout', key, '-out', csr, '-subj', `/CN=${name}`]);
    await writeFile(ext, `subjectAltName=DNS:${name}\nextendedKeyUsage=${eku}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n`);
    await openssl([
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      caFile,
      '-CAkey',
      caKey,
      '-CAcreateserial',
      '-out',
      cert,
      '-days',
      '2',
      '-extfile',
      ext,
    ]);
    files.set(name, { cert, key });
  };
  // Sequential: the CA serial file is shared.
  for (const name of servers) await issue(name, 'serverAuth,clientAuth');
  for (const name of clients) await issue(name, 'clientAuth');
  return {
    dir,
    caFile,
    of(name: string): CertFiles {
      const f = files.get(name);
      if (!f) throw new Error(`no certificate for ${name}`);
      return f;
    },
  };
}
