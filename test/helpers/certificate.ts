/** A self-signed certificate and key made with openssl, for TLS servers and Authenticode signing in tests. */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export interface CertificateOptions {
  /** The subject; default `/CN=127.0.0.1`. */
  readonly subject?: string;
  /** An IP address the certificate is valid for (subjectAltName), as a loopback server's needs; default 127.0.0.1. */
  readonly ip?: string | null;
  readonly days?: number;
}

/** Writes `key.pem` and `cert.pem` (RSA 2048, unencrypted) into `dir`; returns their paths. */
export function selfSignedCertificate(dir: string, o: CertificateOptions = {}): { key: string; cert: string } {
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  const ip = o.ip === undefined ? '127.0.0.1' : o.ip;
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert],
      ...['-days', String(o.days ?? 2), '-subj', o.subject ?? '/CN=127.0.0.1'],
      ...(ip === null ? [] : ['-addext', `subjectAltName=IP:${ip}`]),
    ],
    { stdio: 'ignore' },
  );
  return { key, cert };
}
