import assert from 'node:assert/strict';
import { test } from 'node:test';
import { demoEgress } from '../../src/cli/demo-egress.ts';
import { forwarderPlan, SANDBOX_SOCKET } from '../../src/egress/forwarder.ts';

test('the egress demo: the credentialed call succeeds, the denials are coded, and no secret is printed', async () => {
  const lines: string[] = [];
  await demoEgress((l) => lines.push(l));
  assert.ok(lines.some((l) => /"status":200.*"upstreamEcho":"Bearer \[secret:github\]","tokenVisible":false/.test(l)), lines.join('\n'));
  assert.equal(lines.filter((l) => /→ EGRESS_NOT_GRANTED/.test(l)).length, 3);
  assert.equal(lines.filter((l) => /^audit: .* deny /.test(l)).length, 3, 'each denial is audited');
  assert.equal(lines.at(-1), 'egress: secret value in guest output, result or audit log: no');
});

test('the forwarder plan binds the socket read-only, points every proxy variable at loopback, and refuses a bad port', () => {
  const plan = forwarderPlan({ socketPath: '/tmp/x.sock', port: 8888 });
  assert.deepEqual(plan.binds, [{ type: 'bind', source: '/tmp/x.sock', destination: SANDBOX_SOCKET, options: ['ro'] }]);
  for (const k of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy']) assert.equal(plan.env[k], 'http://127.0.0.1:8888');
  assert.deepEqual(plan.sidecarArgv.slice(-1), [`UNIX-CONNECT:${SANDBOX_SOCKET}`]);
  assert.match(plan.waitArgv.join(' '), /0100007F:22B8 00000000:0000 0A/);
  assert.throws(() => forwarderPlan({ socketPath: '/tmp/x.sock', port: 0 }), RangeError);
});
