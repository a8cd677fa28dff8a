// A container command that floods the egress gateway with requests it is not granted spends its
// sandbox's denial budget (limits.denials); the denial that spends it stops the command, which
// ends LIMIT_DENIALS instead of running on to its wall limit, with a bounded record. Within the
// budget, a command's denials are each recorded and it finishes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AirlockError, MemoryAuditSink } from '../../src/index.ts';
import { testAirlock } from '../support/airlock.ts';

const policy = {
  version: 1 as const,
  limits: { denials: 5, wallMs: 60_000, cpuMs: 30_000 },
  network: { routes: [{ host: 'api.airlock', scheme: 'http' as const, methods: ['GET' as const], paths: ['/ok'], forward: { to: 'http://127.0.0.1:9' } }] },
};
const flood = (n: number): string => `i=0; while [ $i -lt ${n} ]; do curl -s -o /dev/null -m 5 http://api.airlock/denied/$i; i=$((i+1)); done; echo "done $i"`;

test('a command that floods denied requests is stopped LIMIT_DENIALS with a bounded record; one within the budget finishes', async () => {
  const audit = new MemoryAuditSink();
  await using airlock = testAirlock({ audit });
  await using box = await airlock.sandbox({ tier: 'container', tenant: 'acme', policy });
  // Control first: four denials, under the budget of five, each recorded; the command finishes.
  const within = await box.exec(['sh', '-c', flood(4)]);
  assert.equal(within.status, 'ok', JSON.stringify(within.error));
  assert.match(within.stdout, /done 4/);
  const denied = (): number => audit.events.filter((e) => e.kind === 'decision' && e.door === 'network' && e.sandbox === box.id && !e.allow).length;
  assert.equal(denied(), 4);
  const stopped = await box.exec(['sh', '-c', flood(100_000)]);
  assert.equal(stopped.error?.code, 'LIMIT_DENIALS', JSON.stringify({ error: stopped.error, stdout: stopped.stdout.slice(-200) }));
  assert.equal(stopped.status, 'denied');
  assert.doesNotMatch(stopped.stdout, /done/, 'the command did not run to its end');
  assert.equal(denied(), 6, 'the budget, then the denial that spent it: nothing more recorded');
  // The sandbox stays stopped: a later command is refused before it starts, and recorded so.
  await assert.rejects(box.exec(['sh', '-c', 'echo started; sleep 20']), (e: unknown) => e instanceof AirlockError && e.code === 'LIMIT_DENIALS');
  const ended = audit.events.filter((e) => e.kind === 'run.ended' && e.sandbox === box.id).map((e) => (e.kind === 'run.ended' ? e.errorCode : null));
  assert.deepEqual(ended, [null, 'LIMIT_DENIALS', 'LIMIT_DENIALS']);
});
