/**
 * `network.ca`: CA certificates a container sandbox's TLS clients trust besides the host's public
 * trust store (a registry mirror behind a private CA, a test registry). Each entry is PEM text or
 * an absolute path to a PEM file on the host, read when the sandbox is made. Only certificates
 * are accepted: an entry holding anything else (a private key above all) is refused, so a policy
 * can't carry a key into a sandbox by mistake. Pure: parsing and checking only; the container
 * tier reads paths and writes the bundle (src/container/trust.ts).
 *
 * The egress gateway's own TLS (forward routes, the isolate tier's fetch) trusts the host's store
 * and the gateway's `ca` option, not these: they are for TLS the guest speaks itself, through a
 * CONNECT tunnel the gateway only relays.
 */
import { X509Certificate } from 'node:crypto';
import { z } from 'zod';

/** A CA file's size bound (a bundle of a few hundred certificates); inline PEM is held to less. */
export const MAX_CA_FILE_BYTES = 512 * 1024;
const MAX_CA_TEXT_BYTES = 64 * 1024;

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

/**
 * The certificates in PEM text, each re-encoded by node:crypto, or a message saying what to
 * change. Text between blocks (comments, as in Debian's bundle) is ignored; any block that is not
 * a certificate is refused, and so is text with no certificate at all.
 *
 * @example
 *   pemCertificates(readFileSync('ca.pem', 'utf8')) // ['-----BEGIN CERTIFICATE-----\n…']
 */
export function pemCertificates(text: string): string[] | string {
  const certs: string[] = [];
  for (const m of text.matchAll(PEM_BLOCK)) {
    const label = m[1] ?? '';
    if (label !== 'CERTIFICATE') {
      return label.includes('PRIVATE KEY')
        ? 'it holds a private key: name only CA certificates, never a key'
        : `it holds a "${label}" block: name only CA certificates (BEGIN CERTIFICATE)`;
    }
    try {
      certs.push(new X509Certificate(m[0]).toString());
    } catch {
      return `certificate ${certs.length + 1} is not a valid X.509 certificate`;
    }
  }
  if (/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(text)) return 'it holds a private key: name only CA certificates, never a key';
  return certs.length > 0 ? certs : 'no PEM certificate in it (-----BEGIN CERTIFICATE-----)';
}

/** An entry is a path when it starts with "/": PEM text never does. */
export function isCaPath(entry: string): boolean {
  return entry.startsWith('/');
}

const caEntry = z
  .string()
  .max(MAX_CA_TEXT_BYTES)
  .superRefine((entry, ctx) => {
    if (isCaPath(entry)) {
      if (entry.includes('\0') || entry.split('/').some((seg, i) => i > 0 && (seg === '' || seg === '.' || seg === '..'))) {
        ctx.addIssue({ code: 'custom', message: 'a CA path is absolute and normalised (no "..", "." or "//")' });
      }
      return;
    }
    const certs = pemCertificates(entry);
    if (typeof certs === 'string') ctx.addIssue({ code: 'custom', message: `not usable as a CA: ${certs}` });
  });

export const caSchema = z.array(caEntry).min(1).max(8);
