/** A one-shot container run: a fresh sandbox, the file in its workspace, one exec, destroy. */
import type { AuditSink } from '../audit/event.ts';
import { createContainerSandbox, type ContainerSandboxOptions, type ExecResult } from '../container/index.ts';
import { RUN_ID } from '../container/launch.ts';
import { AirlockError } from '../core/errors.ts';
import type { TierResult } from '../core/result.ts';
import type { CompiledPolicy } from '../policy/compile.ts';
import type { Language } from '../policy/request.ts';

const ENTRY: Partial<Record<Language, { readonly file: string; readonly argv: readonly string[] }>> = {
  python: { file: 'main.py', argv: ['python3', 'main.py'] },
  sh: { file: 'main.sh', argv: ['sh', 'main.sh'] },
  js: { file: 'main.mjs', argv: ['node', 'main.mjs'] },
};

export interface ContainerRun {
  readonly id: string;
  readonly tenant: string;
  readonly sandbox: string;
  readonly policy: CompiledPolicy;
  readonly code: string | Uint8Array;
  readonly language: Language;
  readonly audit: AuditSink;
  readonly home: string;
  /** The pool, or the egress hook, the runtime chose for this sandbox. */
  readonly with: Pick<ContainerSandboxOptions, 'pool' | 'egress'>;
  /** Aborted when airlock closes: the sandbox is destroyed, which stops the exec (STOPPED_BY_HOST). */
  readonly closing: AbortSignal;
}

/**
 * The sink a one-shot container run writes through, noting whether its run.started and run.ended
 * went by: a run refused or stopped before its command (a language the tier lacks, airlock closing,
 * a sandbox that could not be built) is then recorded by the caller, so no run is missing from the log.
 */
export function watchedRun(inner: AuditSink, run: string): { readonly sink: AuditSink; readonly seen: { started: boolean; ended: boolean } } {
  const seen = { started: false, ended: false };
  const sink: AuditSink = {
    append(event) {
      if (event.run === run && event.kind === 'run.started') seen.started = true;
      if (event.run === run && event.kind === 'run.ended') seen.ended = true;
      inner.append(event);
    },
    flush: () => inner.flush(),
    close: () => Promise.resolve(),
  };
  return { sink, seen };
}

const NOT_STARTED = 'airlock was closed before the command ran: run it again';

export async function runInContainer(req: ContainerRun): Promise<TierResult> {
  const entry = ENTRY[req.language];
  if (entry === undefined) {
    throw new AirlockError('UNSUPPORTED_LANGUAGE', `${req.language} does not run on the container tier: use python, sh or js there (ts and wasm run on the isolate tier)`);
  }
  const bytes = typeof req.code === 'string' ? Buffer.byteLength(req.code) : req.code.byteLength;
  if (bytes > req.policy.limits.codeBytes) {
    throw new AirlockError('CODE_TOO_LARGE', `the code is ${bytes} bytes, over the limit of ${req.policy.limits.codeBytes}: send less, or raise policy.limits.codeBytes`);
  }
  await using sandbox = await createContainerSandbox({ tenant: req.tenant, sandboxId: req.sandbox, policy: req.policy, audit: req.audit, home: req.home, ...req.with });
  const stop = (): void => void sandbox.destroy().catch(() => undefined);
  req.closing.addEventListener('abort', stop, { once: true });
  let r: ExecResult;
  try {
    // Closed before the listener was there (no abort event came): nothing may start now.
    if (req.closing.aborted) throw new AirlockError('STOPPED_BY_HOST', NOT_STARTED);
    await sandbox.writeFile(entry.file, req.code);
    r = await sandbox.exec(entry.argv, { timeoutMs: req.policy.limits.wallMs, [RUN_ID]: req.id });
  } catch (error) {
    // Whatever failed once airlock was closing (the sandbox destroyed under a write) failed for that.
    throw req.closing.aborted ? new AirlockError('STOPPED_BY_HOST', NOT_STARTED) : error;
  } finally {
    req.closing.removeEventListener('abort', stop);
  }
  return { id: req.id, tier: 'container', status: r.status, exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, result: null, error: r.error, usage: r.usage, violations: [] };
}
