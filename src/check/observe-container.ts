/**
 * Live probes on the container tier: a second tenant's sandbox plants marks and stays alive, then
 * the probed sandbox (the policy under check) tries every door, and the host reads what it saw.
 */
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerSandbox } from '../container/index.ts';
import { RUN_DIR } from '../os/uids.ts';
import type { CompiledPolicy } from '../policy/compile.ts';
import type { PolicyDocument } from '../policy/schema.ts';
import type { Bait } from './bait.ts';
import type { HostFacts } from './policy-answers.ts';
import { CONTAINER_PROBE, containerInput, type ContainerReport } from './probe-container.ts';
import { probePlan } from './probe-plan.ts';
import { yes, type Finding } from './questions.ts';
import { containerFiles, containerNetwork, containerSecrets, containerTenants } from './read-container.ts';

/** Makes a container sandbox for a tenant under a policy (default: `airlock.sandbox`). */
export type ContainerOpener = (tenant: string, policy: PolicyDocument) => Promise<ContainerSandbox>;

/** What every live probe is given, whichever tier it runs on. */
export interface ProbeContextBase {
  readonly document: PolicyDocument;
  readonly policy: CompiledPolicy;
  readonly tenant: string;
  readonly otherTenant: string;
  readonly facts: HostFacts;
  readonly bait: Bait;
}

export interface ContainerProbeContext extends ProbeContextBase {
  readonly open: ContainerOpener;
}

export type Observed = Record<'secrets' | 'network' | 'files' | 'tenants', Finding>;

const HOLD_SECONDS = 25;

/** Every question answered "yes": what a probe that could not run proves (fail closed). */
export function unverified(why: string): Observed {
  const f = yes(`could not verify: ${why}`);
  return { secrets: f, network: f, files: f, tenants: f };
}

function parseReport(stdout: string): ContainerReport | null {
  const line = stdout.split('\n').find((l) => l.startsWith('{'));
  if (line === undefined) return null;
  try {
    return JSON.parse(line) as ContainerReport;
  } catch {
    return null;
  }
}

async function hostUid(sandboxId: string): Promise<number | null> {
  return stat(join(RUN_DIR, 'sandboxes', sandboxId, 'workspace')).then((s) => s.uid, () => null);
}

/** The second tenant: plants its mark wherever it can write, reports, and stays alive. */
async function startNeighbour(ctx: ContainerProbeContext, token: string) {
  const limits = { ...ctx.document.limits, wallMs: Math.max(ctx.policy.limits.wallMs, (HOLD_SECONDS + 5) * 1000) };
  const box = await ctx.open(ctx.otherTenant, { ...ctx.document, limits });
  await box.writeFile('probe.py', CONTAINER_PROBE);
  const plan = { ...probePlan(ctx.bait, ctx.facts, ctx.policy, { workspace: null }), http: [], tcp: [], udp: [], dns: [] };
  let stdout = '';
  const ready = Promise.withResolvers<null>();
  const exec = box.exec(['python3', 'probe.py', token], {
    stdin: containerInput({ ...plan, mark: { ...plan.mark, plant: token } }, HOLD_SECONDS),
    onStdout: (chunk) => {
      stdout += chunk;
      if (stdout.includes('\n')) ready.resolve(null);
    },
  });
  // A neighbour that ends early (or fails) must not leave the probe waiting.
  const ended = exec.then((r) => r, (e: unknown) => e as Error);
  await Promise.race([ready.promise, ended]);
  const report = parseReport(stdout);
  const r = await Promise.race([ended, Promise.resolve(null)]);
  const failed = report === null ? `its probe did not report (${r instanceof Error ? r.message : (r?.error?.message ?? 'no output')})` : null;
  return { box, ended, planted: failed ?? report?.planted ?? [] };
}

/**
 * @example
 *   const observed = await observeContainer({ open, document, policy, tenant: 'acme', otherTenant: 'check-b', facts, bait });
 */
export async function observeContainer(ctx: ContainerProbeContext): Promise<Observed> {
  const token = `airlock-tenant-b-${randomBytes(10).toString('hex')}`;
  const neighbour = await startNeighbour(ctx, token);
  try {
    const uidB = await hostUid(neighbour.box.id);
    await using box = await ctx.open(ctx.tenant, ctx.document);
    const uidA = await hostUid(box.id);
    await box.writeFile('probe.py', CONTAINER_PROBE);
    const workspace = join(RUN_DIR, 'sandboxes', neighbour.box.id, 'workspace');
    const plan = probePlan(ctx.bait, ctx.facts, ctx.policy, { workspace });
    const r = await box.exec(['python3', 'probe.py'], { stdin: containerInput(plan) });
    const report = parseReport(r.stdout);
    if (report === null) return unverified(`the probe did not report (${r.status}: ${r.error?.message ?? ''} ${r.stderr.slice(0, 300)})`);
    const hits = ctx.bait.hits();
    return {
      secrets: containerSecrets(report, ctx.bait.envName),
      network: containerNetwork(report, hits),
      files: containerFiles(report, ctx.bait.token),
      tenants: containerTenants(report, { token, planted: neighbour.planted, uidA, uidB, runDir: ctx.facts.runDir }),
    };
  } finally {
    await neighbour.box.destroy();
    await neighbour.ended;
  }
}
