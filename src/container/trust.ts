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
import { mkdir, open, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { AirlockError } from '../core/errors.ts';
import { isCaPath, MAX_CA_FILE_BYTES, pemCertificates } from '../policy/ca.ts';
import type { CompiledPolicy } from '../policy/compile.ts';
import { policySchema } from '../policy/schema.ts';
import type { Mount } from './mounts.ts';

export const HOST_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
/** Debian's path, read by OpenSSL's default configuration (/usr/lib/ssl/cert.pem links to it). */
export const SANDBOX_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
/** The ending of a sandbox's own bundle's name (trustPath). */
const OWN_SUFFIX = '.ca-bundle.pem';

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
 * Where a sandbox's own bundle lives: beside, not in, the sandbox's directory (which only root may
 * enter), in a directory anyone may pass through, since bwrap reads it as the sandbox's uid. Its
 * name is the sandbox directory's name when it was made; a pool's later rename leaves it be.
 */
export function trustPath(runDir: string, sandboxDir: string): string {
  return `${runDir}/trust/${basename(sandboxDir)}${OWN_SUFFIX}`;
}

/**
 * The bundle a sandbox trusts: the host's, or, when the policy names CAs, the host's plus those,
 * written to `target` (trustPath). Returns its path, or null when there is none.
 */
export async function trustBundle(policy: CompiledPolicy, target: string, hostBundle: string | null): Promise<string | null> {
  const extra = await policyCertificates(policy);
  if (extra.length === 0) return hostBundle;
  const host = hostBundle === null ? [] : ((await readFile(hostBundle, 'utf8')).match(CERT_BLOCK) ?? []);
  await mkdir(dirname(target), { recursive: true, mode: 0o711 });
  try {
    await writeFile(target, `${[...host, ...extra.map((c) => c.trim())].join('\n')}\n`, { mode: 0o644, flag: 'wx' });
  } catch (error) {
    // A half-written bundle (a full disk) would otherwise stay behind.
    await rm(target, { force: true }).catch(() => undefined);
    throw error;
  }
  return target;
}

/** Removes a bundle trustBundle wrote (never the host's). */
export async function removeTrustBundle(bundle: string | null): Promise<void> {
  if (bundle !== null && bundle.endsWith(OWN_SUFFIX) && basename(dirname(bundle)) === 'trust') await rm(bundle, { force: true });
}

/** The read-only bind of the bundle, after /etc (whose synthetic copy holds the mount point). */
export function trustMounts(bundle: string | null): Mount[] {
  return bundle === null ? [] : [{ type: 'bind', source: bundle, destination: SANDBOX_CA_BUNDLE, options: ['ro'] }];
}
