/**
 * The emulator's self-signed certificate (a real firewall serves its own "ApplianceCertificate",
 * §1.2). One EC key per process is generated lazily and shared by every emulator started without
 * explicit `tls`, because key generation dominates start-up time in test suites.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generate } from 'selfsigned';

export interface TlsMaterial {
  key: string;
  cert: string;
}

let shared: Promise<TlsMaterial> | undefined;

export function defaultTls(): Promise<TlsMaterial> {
  shared ??= generateTls().catch((err: unknown) => {
    shared = undefined;
    throw err;
  });
  return shared;
}

export async function generateTls(): Promise<TlsMaterial> {
  const notBeforeDate = new Date(Date.now() - 24 * 3600_000);
  const notAfterDate = new Date(notBeforeDate.getTime() + 5 * 365 * 24 * 3600_000);
  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
          { type: 2, value: 'localhost' },
        ],
      },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}

/** 'AB:CD:…', the same form as Node's X509Certificate.fingerprint256. */
export function fingerprint256(certPem: string): string {
  return new X509Certificate(certPem).fingerprint256;
}

export const KEY_FILE = 'key.pem';
export const CERT_FILE = 'cert.pem';

/**
 * A certificate kept in `dir` across starts, so a config pinning its fingerprint keeps working
 * while one tries settings: read when both files are there, made and saved (key 0600) otherwise.
 * A half-present or unreadable pair is an error rather than silently replaced: the pin would change.
 */
export async function persistentTls(dir: string): Promise<TlsMaterial & { created: boolean }> {
  const keyPath = join(dir, KEY_FILE);
  const certPath = join(dir, CERT_FILE);
  const [key, cert] = await Promise.all([readIfThere(keyPath), readIfThere(certPath)]);
  if (key !== undefined && cert !== undefined) {
    // Fail here, with the file names, rather than at the first TLS handshake.
    createPrivateKey(key);
    new X509Certificate(cert);
    return { key, cert, created: false };
  }
  if (key !== undefined || cert !== undefined) {
    throw new Error(
      `${dir} holds only one of ${KEY_FILE} and ${CERT_FILE}; remove it (a new certificate gets a new fingerprint) or restore the other file`,
    );
  }
  const made = await generateTls();
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(keyPath, made.key, { mode: 0o600, flag: 'wx' });
  await writeFile(certPath, made.cert, { mode: 0o644, flag: 'wx' });
  return { ...made, created: true };
}

async function readIfThere(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
