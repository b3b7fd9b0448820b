/**
 * The emulator's self-signed certificate (a real firewall serves its own "ApplianceCertificate",
 * §1.2). One EC key per process is generated lazily and shared by every emulator started without
 * explicit `tls`, because key generation dominates start-up time in test suites.
 */
import { X509Certificate } from 'node:crypto';
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
