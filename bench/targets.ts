/**
 * The issue's performance targets, each held against its baseline from the same run (these
 * machines are noisy: a ratio to a figure measured beside it says more than an absolute number).
 * A target whose figures a run did not produce (`--only`) is reported as not measured, never as met.
 */
type Figures = Readonly<Record<string, number>>;

interface Target {
  readonly name: string;
  /** What is held, in words, with the baseline it is held against. */
  readonly rule: string;
  /** The figures it needs; all must be present for a verdict. */
  readonly needs: readonly string[];
  readonly met: (f: Figures) => boolean;
}

const v = (f: Figures, k: string): number => f[k] ?? Number.NaN;

const TARGETS: readonly Target[] = [
  { name: 'cli_run_cold', rule: 'cli_run_cold_ms ≤ 300 and ≤ 5 × node_start_ms', needs: ['cli_run_cold_ms', 'node_start_ms'], met: (f) => v(f, 'cli_run_cold_ms') <= 300 && v(f, 'cli_run_cold_ms') <= 5 * v(f, 'node_start_ms') },
  { name: 'isolate_run', rule: 'isolate_run_p50_ms ≤ 1.2 × raw_ivm_cold_p50_ms', needs: ['isolate_run_p50_ms', 'raw_ivm_cold_p50_ms'], met: (f) => v(f, 'isolate_run_p50_ms') <= 1.2 * v(f, 'raw_ivm_cold_p50_ms') },
  { name: 'isolate_run_batched', rule: 'isolate_run_batched_p50_ms ≤ 1.2 × raw_ivm_cold_p50_ms', needs: ['isolate_run_batched_p50_ms', 'raw_ivm_cold_p50_ms'], met: (f) => v(f, 'isolate_run_batched_p50_ms') <= 1.2 * v(f, 'raw_ivm_cold_p50_ms') },
  { name: 'isolate_rate', rule: 'isolate_runs_per_s ≥ 0.8 × cores × raw_ivm_runs_per_s (isolate_rate_vs_raw_ratio ≥ 0.8)', needs: ['isolate_rate_vs_raw_ratio'], met: (f) => v(f, 'isolate_rate_vs_raw_ratio') >= 0.8 },
  { name: 'tool_call', rule: 'tool_call_p50_us ≤ 50', needs: ['tool_call_p50_us'], met: (f) => v(f, 'tool_call_p50_us') <= 50 },
  { name: 'container_creates', rule: 'container_creates_per_s ≥ 100', needs: ['container_creates_per_s'], met: (f) => v(f, 'container_creates_per_s') >= 100 },
  { name: 'container_cold', rule: 'container_cold_true_p50_ms ≤ bare_bwrap_true_p50_ms + 10', needs: ['container_cold_true_p50_ms', 'bare_bwrap_true_p50_ms'], met: (f) => v(f, 'container_cold_true_p50_ms') <= v(f, 'bare_bwrap_true_p50_ms') + 10 },
  { name: 'multitenant', rule: 'isolate_multitenant_vs_single_ratio ≥ 0.8', needs: ['isolate_multitenant_vs_single_ratio'], met: (f) => v(f, 'isolate_multitenant_vs_single_ratio') >= 0.8 },
  { name: 'isolate_tenants', rule: 'isolate_tenants_live_max ≥ 5000 on 24 GiB', needs: ['isolate_tenants_live_max'], met: (f) => v(f, 'isolate_tenants_live_max') >= 5000 },
  { name: 'container_sandboxes', rule: 'container_sandboxes_live_max ≥ 500 on 24 GiB', needs: ['container_sandboxes_live_max'], met: (f) => v(f, 'container_sandboxes_live_max') >= 500 },
  { name: 'warrant_authorize', rule: 'warrant_authorize_p50_us ≤ 20', needs: ['warrant_authorize_p50_us'], met: (f) => v(f, 'warrant_authorize_p50_us') <= 20 },
  { name: 'label_check', rule: 'label_check_p50_us ≤ 20', needs: ['label_check_p50_us'], met: (f) => v(f, 'label_check_p50_us') <= 20 },
];

export interface TargetVerdict {
  readonly name: string;
  readonly rule: string;
  readonly verdict: 'met' | 'missed' | 'not measured';
  readonly figures: Readonly<Record<string, number>>;
}

export function judgeTargets(figures: Figures): TargetVerdict[] {
  return TARGETS.map((t) => {
    const present = t.needs.filter((k) => Number.isFinite(figures[k]));
    const shown = Object.fromEntries(present.map((k) => [k, figures[k] as number]));
    const verdict = present.length < t.needs.length ? 'not measured' : t.met(figures) ? 'met' : 'missed';
    return { name: t.name, rule: t.rule, verdict, figures: shown };
  });
}

export function printTargets(verdicts: readonly TargetVerdict[], write: (line: string) => void): void {
  write('\ntargets (each against its baseline from this run):\n');
  for (const t of verdicts) {
    const got = Object.entries(t.figures).map(([k, x]) => `${k}=${x}`).join(' ');
    write(`  ${t.verdict.padEnd(12)} ${t.rule}${got === '' ? '' : `   [${got}]`}\n`);
  }
}
