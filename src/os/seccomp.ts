/**
 * Seccomp programs for `bwrap --seccomp FD`: a profile (data, see seccomp-profiles.ts) is rendered
 * to the generator's line format and compiled by native/seccomp-gen.c with libseccomp. The BPF is
 * never assembled here. Programs are cached on disk by a hash of the profile text and of the
 * generator binary, so a rebuilt generator never serves a stale program. The cache is a filter
 * every sandbox loads, so it is used only in a directory only root can change (trusted-dir.ts),
 * and a cached file only when it is a regular file root owns and nobody else may write.
 *
 * The generator's rule, repeated because profiles must respect it: each syscall has ONE action,
 * and either one unconditional rule or only conditional rules (libseccomp resolves anything
 * else by insertion order or silently drops rules; the generator refuses it).
 */
import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { AirlockError } from '../core/errors.ts';
import { assertNever } from '../core/assert.ts';
import { assertTrustedDir } from './trusted-dir.ts';

/** The errnos a rule may return (the generator accepts exactly these). */
export type SeccompErrno = 'EPERM' | 'ENOSYS' | 'EACCES' | 'EINVAL' | 'EAFNOSUPPORT' | 'EOPNOTSUPP' | 'ENOTTY';

/**
 * `skip`: the call is not run and returns 0, as if it had succeeded (SCMP_ACT_ERRNO(0)). Only for
 * calls whose whole effect inside a sandbox is one it must not have (see seccomp-profiles.ts).
 */
export type SeccompAction = { readonly kind: 'allow' } | { readonly kind: 'errno'; readonly errno: SeccompErrno } | { readonly kind: 'skip' } | { readonly kind: 'kill' };

/** The default is never "allow": a profile is an allowlist. */
export type SeccompDefault = { readonly kind: 'errno'; readonly errno: SeccompErrno } | { readonly kind: 'kill' };

/** A comparison on one 64-bit syscall argument. Values are non-negative safe integers. */
export type SeccompCondition =
  | { readonly arg: 0 | 1 | 2 | 3 | 4 | 5; readonly op: 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge'; readonly value: number }
  | { readonly arg: 0 | 1 | 2 | 3 | 4 | 5; readonly op: 'masked_eq'; readonly mask: number; readonly value: number };

/** One rule: the action applies when every condition holds (no conditions: always). */
export interface SeccompRule {
  readonly syscall: string;
  readonly action: SeccompAction;
  readonly when: readonly SeccompCondition[];
  /** Why the rule exists, for reviewers and `airlock check`; not sent to the generator. */
  readonly why?: string;
}

export interface SeccompProfile {
  /** A short lowercase name; also the cached file's prefix. */
  readonly name: string;
  readonly defaultAction: SeccompDefault;
  readonly rules: readonly SeccompRule[];
}

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const GENERATOR = `${PROJECT_ROOT}.airlock-build/seccomp-gen`;

function bad(profile: string, what: string): AirlockError {
  return new AirlockError('INTERNAL', `seccomp profile "${profile}": ${what}`);
}

function num(profile: string, n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw bad(profile, `${n} is not a non-negative safe integer`);
  return `0x${n.toString(16)}`;
}

function actionText(a: SeccompAction | SeccompDefault): string {
  switch (a.kind) {
    case 'allow':
      return 'allow';
    case 'errno':
      return `errno ${a.errno}`;
    case 'skip':
      return 'skip';
    case 'kill':
      return 'kill';
    default:
      return assertNever(a, 'seccomp action');
  }
}

/**
 * Renders a profile to the generator's text format (one statement per line).
 *
 * @example
 *   renderProfile({ name: 'tiny', defaultAction: { kind: 'errno', errno: 'EPERM' },
 *     rules: [{ syscall: 'socket', action: { kind: 'allow' }, when: [{ arg: 0, op: 'eq', value: 1 }] }] })
 *   // 'default errno EPERM\nallow socket if arg0 eq 0x1\n'
 */
export function renderProfile(profile: SeccompProfile): string {
  if (!/^[a-z][a-z0-9-]{0,40}$/.test(profile.name)) throw bad(profile.name, 'the name must be lowercase letters, digits and dashes');
  const lines = [`default ${actionText(profile.defaultAction)}`];
  for (const rule of profile.rules) {
    if (!/^[a-z][a-z0-9_]{0,40}$/.test(rule.syscall)) throw bad(profile.name, `"${rule.syscall}" is not a syscall name`);
    const head = rule.action.kind === 'errno' ? `errno ${rule.syscall} ${rule.action.errno}` : `${rule.action.kind} ${rule.syscall}`;
    const conds = rule.when.map((c) =>
      c.op === 'masked_eq' ? `arg${c.arg} masked_eq ${num(profile.name, c.mask)} ${num(profile.name, c.value)}` : `arg${c.arg} ${c.op} ${num(profile.name, c.value)}`,
    );
    lines.push(conds.length === 0 ? head : `${head} if ${conds.join(' and ')}`);
  }
  return lines.join('\n') + '\n';
}

function runGenerator(generator: string, text: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(generator, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const bpf = Buffer.concat(out);
      // A classic BPF program is a whole number of 8-byte instructions; anything else is broken.
      if (code === 0 && bpf.length > 0 && bpf.length % 8 === 0) resolve(bpf);
      else reject(new AirlockError('INTERNAL', `seccomp-gen failed (${signal ?? `exit ${code}`}): ${Buffer.concat(err).toString().trim() || 'bad output'}`));
    });
    child.stdin.on('error', () => undefined); // an early exit is reported by 'close'
    child.stdin.end(text);
  });
}

async function writeAtomically(path: string, data: Buffer): Promise<void> {
  const tmp = `${path}.${randomUUID()}.tmp`;
  const fh = await open(tmp, 'wx', 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (error) {
    await unlink(tmp).catch(() => undefined);
    throw error;
  }
}

/** A cached program is used only when root wrote it and nobody else can: a regular file, not a link. */
async function usableCached(path: string): Promise<boolean> {
  const fh = await open(path, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK).catch(() => undefined);
  if (fh === undefined) return false;
  try {
    const st = await fh.stat();
    return st.isFile() && st.uid === 0 && (st.mode & 0o022) === 0 && st.nlink === 1 && st.size > 0 && st.size % 8 === 0;
  } finally {
    await fh.close();
  }
}

/**
 * Compiles a profile (or finds it compiled) and returns the path of its .bpf file, ready to be
 * opened and passed to `bwrap --seccomp FD`. Throws SANDBOX_UNAVAILABLE when the generator has
 * not been built or the cache directory is not root's alone, INTERNAL when the generator refuses
 * the profile.
 *
 * @example
 *   const bpf = await seccompProgram(CONTAINER_PROFILE, { cacheDir: `${home}/seccomp` });
 *   const fd = openSync(bpf, 'r'); // spawn('bwrap', ['--seccomp', '3', ...], { stdio: [.., .., .., fd] })
 */
export async function seccompProgram(profile: SeccompProfile, options: { cacheDir: string; generator?: string }): Promise<string> {
  const generator = options.generator ?? GENERATOR;
  const text = renderProfile(profile);
  let binary: Buffer;
  try {
    binary = await readFile(generator);
  } catch {
    throw new AirlockError('SANDBOX_UNAVAILABLE', `the seccomp generator ${generator} is missing: run \`npm run setup\` (it needs libseccomp-dev and a C compiler)`);
  }
  const hash = createHash('sha256').update(createHash('sha256').update(binary).digest()).update(text).digest('hex');
  const path = `${options.cacheDir}/${profile.name}-${hash.slice(0, 32)}.bpf`;
  await mkdir(options.cacheDir, { recursive: true, mode: 0o755 });
  assertTrustedDir(options.cacheDir, 'the seccomp program cache');
  if (await usableCached(path)) return path;
  const bpf = await runGenerator(generator, text);
  await writeAtomically(path, bpf);
  return path;
}
