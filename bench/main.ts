// `npm run bench [-- --json] [-- --only isolate,audit]`: every figure with its baselines, same run.
import { benchAuthorityCalls } from './authority-calls.ts';
import { benchAudit } from './audit.ts';
import { benchCli } from './cli.ts';
import { benchContainer } from './container.ts';
import { benchEgress } from './egress.ts';
import { benchIsolate } from './isolate.ts';
import { benchLabels } from './labels.ts';
import { benchMcp } from './mcp.ts';
import { benchSeccomp } from './seccomp.ts';
import { benchServer } from './server.ts';
import { judgeTargets, printTargets } from './targets.ts';
import { benchTenants } from './tenants.ts';
import { benchWarrant } from './warrant.ts';

const suites: Record<string, () => Promise<Record<string, number>>> = {
  isolate: benchIsolate,
  tenants: benchTenants,
  container: benchContainer,
  egress: benchEgress,
  audit: benchAudit,
  seccomp: benchSeccomp,
  labels: benchLabels,
  server: benchServer,
  warrant: benchWarrant,
  authority: benchAuthorityCalls,
  mcp: benchMcp,
  cli: benchCli,
};

const args = process.argv.slice(2);
const json = args.includes('--json');
const onlyAt = args.indexOf('--only');
const only = onlyAt >= 0 ? (args[onlyAt + 1] ?? '').split(',') : Object.keys(suites);
const figures: Record<string, number> = {};
for (const [name, run] of Object.entries(suites)) {
  if (!only.includes(name)) continue;
  process.stderr.write(`bench: ${name}…\n`);
  Object.assign(figures, await run());
}
const targets = judgeTargets(figures);
if (json) process.stdout.write(`${JSON.stringify({ ...figures, targets })}\n`);
else {
  for (const [k, v] of Object.entries(figures)) process.stdout.write(`${k.padEnd(32)} ${v}\n`);
  printTargets(targets, (line) => process.stdout.write(line));
}
