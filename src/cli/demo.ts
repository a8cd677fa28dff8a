/**
 * `airlock demo`: the main job end to end on the embedded defaults. A model-written snippet calls
 * one granted tool and one tool it was not granted, and a runaway loop is stopped by its limit.
 */
import { Command } from 'commander';
import type { RunResult } from '../core/result.ts';
import { createAirlock, type Airlock } from '../runtime/airlock.ts';
import type { PolicyDocument } from '../policy/schema.ts';
import { auditCommand } from './audit.ts';
import { demoCheck } from './demo-check.ts';
import { CONTAINER_DEMO_POLICY, demoContainer } from './demo-container.ts';
import { demoEgress } from './demo-egress.ts';
import { failingOnSignals } from './signals.ts';

const SNIPPET = `// Written by a model asked: "Should I take an umbrella in Oslo today?"
const weather = await tools.getWeather({ city: 'Oslo' });
let email;
try {
  await tools.sendEmail({ to: 'everyone@example.com', body: JSON.stringify(weather) });
  email = 'sent';
} catch (e) {
  email = 'refused: ' + e.code;
}
console.log('Oslo: ' + weather.tempC + ' °C, ' + weather.rainChance + '% chance of rain');
export default { umbrella: weather.rainChance > 50, email };
`;

const RUNAWAY = `// A model's loop with no exit.
let n = 0;
while (true) n++;
`;

const POLICY: PolicyDocument = {
  version: 1,
  tools: {
    getWeather: {
      operation: 'read',
      args: { type: 'object', properties: { city: { type: 'string', maxLength: 64 } }, required: ['city'], additionalProperties: false },
    },
  },
  limits: { wallMs: 2000, cpuMs: 250, memoryMiB: 32 },
};

function describe(out: (line: string) => void, r: RunResult): void {
  out(`  status: ${r.status}${r.error ? ` — ${r.error.code}: ${r.error.message}` : ''}`);
  if (r.stdout) out(`  printed: ${r.stdout.trim()}`);
  if (r.result !== null) out(`  result: ${JSON.stringify(r.result)}`);
  for (const v of r.violations) out(`  denied ${v.door}: ${v.detail}`);
  out(`  usage: ${r.usage.wallMs.toFixed(1)} ms wall, ${r.usage.cpuMs.toFixed(1)} ms cpu`);
}

export async function demoIsolate(out: (line: string) => void, airlock: Airlock): Promise<void> {
  out('== isolate tier: a fresh V8 isolate per run, in a bubblewrap + seccomp worker');
  out('policy grants: getWeather (read). Nothing else: no sendEmail, no network, no files.');
  out('');
  out('-- a model-written snippet:');
  for (const line of SNIPPET.trim().split('\n')) out(`  | ${line}`);
  describe(out, await airlock.run({ tenant: 'demo', code: SNIPPET, policy: POLICY }));
  out('');
  out(`-- a runaway loop, CPU limit ${POLICY.limits?.cpuMs ?? 0} ms:`);
  describe(out, await airlock.run({ tenant: 'demo', code: RUNAWAY, policy: POLICY }));
  out('');
}

export function demoCommand(): Command {
  return new Command('demo').description('run the main job end to end on the embedded defaults').action(async () => {
    const out = (line: string): void => void process.stdout.write(`${line}\n`);
    const since = new Date().toISOString();
    {
      await using airlock = createAirlock({
        tools: { getWeather: (args) => ({ city: (args as { city: string }).city, tempC: 7, rainChance: 80 }) },
      });
      await failingOnSignals(airlock, 'the demo', async () => {
        await demoIsolate(out, airlock);
        out('== container tier: a Linux workbench per sandbox (namespaces, seccomp, cgroups, own uid)');
        await demoContainer(out, airlock);
        out('');
        out('== airlock check: the five questions for the policies above, from the policy and from live probes');
        await demoCheck(out, airlock, [
          { name: 'the weather snippet', tier: 'isolate', policy: POLICY },
          { name: 'the python workbench', tier: 'container', policy: CONTAINER_DEMO_POLICY },
        ]);
        out('');
      });
    }
    out('== egress: default-deny network and the proxy pattern for secrets (isolate fetch)');
    await demoEgress(out);
    out('');
    out(`== the audit trail of this demo (tenant "demo", since ${since}):`);
    await auditCommand().parseAsync(['list', '--tenant', 'demo', '--since', since], { from: 'user' });
    out('');
    out('== airlock audit verify:');
    await auditCommand().parseAsync(['verify'], { from: 'user' });
  });
}
