/**
 * Which TLS servers a sandbox's clients trust: the host's public trust store (Debian's bundle of
 * CA certificates, which update-ca-certificates builds from /usr/share/ca-certificates and
 * /usr/local/share/ca-certificates), plus the CA certificates its policy names (network.ca). The
 * bundle appears read-only at Debian's own path, so OpenSSL (python, curl, git), pip and requests
 * find it there by default; the variables in TRUST_ENV point the rest at it. The host's private
 * keys never enter: /etc/ssl/private is not in the synthetic /etc, and a bundle airlock writes
 * holds certificate blocks only.
 *
 * Without policy CAs the host's bundle file itself is bound (nothing is copied, so it is current
 * at each launch). With them, the sandbox gets its own bundle in its directory: the host's
 * certificates, then the policy's, written when the sandbox is made.
 */
import { constants as fsc } from 'node:fs';
import { open, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AirlockError } from '../core/errors.ts';
import { isCaPath, MAX_CA_FILE_BYTES, pemCertificates } from '../policy/ca.ts';
import type { CompiledPolicy } from '../policy/compile.ts';
import { policySchema } from '../policy/schema.ts';
import type { Mount } from './mounts.ts';

export const HOST_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
/** Debian's path, read by OpenSSL's default configuration (/usr/lib/ssl/cert.pem links to it). */
export const SANDBOX_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
/** The sandbox's own bundle, in its directory on the host. */
const OWN_BUNDLE = 'ca-certificates.crt';

/**
 * For clients that would not read SANDBOX_CA_BUNDLE by themselves: OpenSSL builds with another
 * default, requests and pip in a virtualenv (certifi's bundle otherwise), and Node, which trusts
 * its own built-in Mozilla list unless told to use OpenSSL's store (NODE_EXTRA_CA_CERTS would
 * do too, but Node 20 parses that file at every start: +50 ms per `node` here). A policy's `env`
 * may override any of them.
 */
export const TRUST_ENV: Readonly<Record<string, string>> = {
  SSL_CERT_FILE: SANDBOX_CA_BUNDLE,
  REQUESTS_CA_BUNDLE: SANDBOX_CA_BUNDLE,
  PIP_CERT: SANDBOX_CA_BUNDLE,
  NODE_OPTIONS: '--use-openssl-ca',
};

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----\r?\n[\s\S]*?-----END CERTIFICATE-----/g;

/** The host's bundle when it is a regular file (package ca-certificates), else null. */
export async function hostCaBundle(path = HOST_CA_BUNDLE): Promise<string | null> {
  const st = await stat(path).catch(() => undefined);
  return st?.isFile() === true ? path : null;
}

/**
 * Reads a CA file a policy names. The host reads it as root, so it reads only what any local user
 * could: a regular file (not a FIFO or a device, which could block, never end, or act on open),
 * world-readable, under world-searchable directories, at most MAX_CA_FILE_BYTES, holding
 * certificates only. A CA certificate is public; a file that is not is not one to copy.
 */
async function readCaFile(path: string, at: string): Promise<string[]> {
  const refuse = (why: string): AirlockError => {
    const message = `${path} ${why}`;
    return new AirlockError('INVALID_POLICY', `the policy has 1 problem(s): ${at}: ${message}`, { problems: [{ path: at, message }] });
  };
  let text: string;
  try {
    const real = await realpath(path);
    const st = await stat(real);
    if (!st.isFile()) throw refuse('is not a regular file: name a PEM file of CA certificates');
    if ((st.mode & 0o004) === 0) throw refuse('is not world-readable: a CA certificate is public (chmod o+r), and only such files are read');
    for (let dir = dirname(real); ; dir = dirname(dir)) {
      if (((await stat(dir)).mode & 0o001) === 0) throw refuse(`is under ${dir}, which not every user may enter: keep CA files where any user can read them`);
      if (dir === '/') break;
    }
    if (st.size > MAX_CA_FILE_BYTES) throw refuse(`is over ${MAX_CA_FILE_BYTES >> 10} KiB: name a smaller bundle`);
    const handle = await open(real, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK | fsc.O_NOCTTY);
    try {
      const now = await handle.stat();
      // Swapped between the checks and the open: refuse rather than read something else.
      if (now.ino !== st.ino || now.dev !== st.dev || now.size > MAX_CA_FILE_BYTES) throw refuse('changed while it was read: try again');
      text = await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (error instanceof AirlockError) throw error;
    throw refuse(`can't be read on this host (${(error as NodeJS.ErrnoException).code ?? 'error'}): name a PEM file that exists`);
  }
  const certs = pemCertificates(text);
  if (typeof certs === 'string') throw refuse(`is not usable as a CA: ${certs}`);
  return certs;
}

/** The certificates `policy.network.ca` names, in order; paths are read now. */
export async function policyCertificates(policy: CompiledPolicy): Promise<string[]> {
  const entries = policySchema.parse(policy.document).network?.ca ?? [];
  const certs: string[] = [];
  for (const [i, entry] of entries.entries()) {
    if (isCaPath(entry)) certs.push(...(await readCaFile(entry, `network.ca.${i}`)));
    else {
      const inline = pemCertificates(entry);
      // compile() refused anything else already.
      if (typeof inline === 'string') throw new AirlockError('INVALID_POLICY', `the policy has 1 problem(s): network.ca.${i}: ${inline}`, { problems: [{ path: `network.ca.${i}`, message: inline }] });
      certs.push(...inline);
    }
  }
  return certs;
}

/**
 * The host path of the bundle this sandbox's /etc/ssl/certs/ca-certificates.crt shows: the
 * host's own, or (when the policy names CAs) one written into `sandboxDir`; null when there is
 * neither (TLS then trusts nothing).
 *
 * @example
 *   const bundle = await trustBundle(policy, '/run/airlock/sandboxes/s1', await hostCaBundle());
 */
export async function trustBundle(policy: CompiledPolicy, sandboxDir: string, hostBundle: string | null): Promise<string | null> {
  const extra = await policyCertificates(policy);
  if (extra.length === 0) return hostBundle;
  const host = hostBundle === null ? [] : ((await readFile(hostBundle, 'utf8')).match(CERT_BLOCK) ?? []);
  const path = `${sandboxDir}/${OWN_BUNDLE}`;
  try {
    await writeFile(path, `${[...host, ...extra.map((c) => c.trim())].join('\n')}\n`, { mode: 0o644, flag: 'wx' });
  } catch (error) {
    // A half-written bundle (a full disk) would keep the sandbox's directory from being removed.
    await rm(path, { force: true }).catch(() => undefined);
    throw error;
  }
  return path;
}

/** Removes a bundle trustBundle wrote into `sandboxDir` (the host's own is never touched). */
export async function removeTrustBundle(bundle: string | null, sandboxDir: string): Promise<void> {
  if (bundle === `${sandboxDir}/${OWN_BUNDLE}`) await rm(bundle, { force: true });
}

/** Where a bundle written into `from` is once the sandbox's directory moved to `to`. */
export function movedTrustBundle(bundle: string | null, from: string, to: string): string | null {
  return bundle === `${from}/${OWN_BUNDLE}` ? `${to}/${OWN_BUNDLE}` : bundle;
}

/** The read-only bind of the bundle, after /etc (whose synthetic copy holds the mount point). */
export function trustMounts(bundle: string | null): Mount[] {
  return bundle === null ? [] : [{ type: 'bind', source: bundle, destination: SANDBOX_CA_BUNDLE, options: ['ro'] }];
}
