// The denial tap: every event reaches the log unchanged; a watched sandbox's denials at the doors
// a run knocks on become violations (coded, with the door's message), and no more than MAX_KEPT.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryAuditSink } from '../../src/index.ts';
import { DenialTap, MAX_KEPT } from '../../src/runtime/denials.ts';

const denied = (sandbox: string, door: 'network' | 'file' | 'limit', n = 0) => ({
  kind: 'decision' as const, tenant: 't', sandbox, door, subject: `GET http://x/${n}`, allow: false, reason: 'PATH_NOT_GRANTED',
  detail: { code: 'EGRESS_NOT_GRANTED', message: `GET http://x/${n} is not granted` },
});

test("a watched sandbox's denials become violations; other sandboxes', allowed decisions and limit stops do not; the log gets everything", () => {
  const log = new MemoryAuditSink();
  const tap = new DenialTap(log);
  const watch = tap.watch('sbx_a');
  tap.append(denied('sbx_a', 'network'));
  tap.append({ ...denied('sbx_a', 'network'), allow: true });
  tap.append(denied('sbx_a', 'limit'));
  tap.append(denied('sbx_b', 'network'));
  tap.append({ kind: 'decision', tenant: 't', sandbox: 'sbx_a', door: 'file', subject: '../x', allow: false, reason: 'PATH_OUTSIDE_WORKSPACE' });
  assert.deepEqual(watch.stop(), [
    { door: 'network', detail: 'GET http://x/0 is not granted', code: 'EGRESS_NOT_GRANTED' },
    { door: 'file', detail: 'PATH_OUTSIDE_WORKSPACE: ../x', code: 'PATH_OUTSIDE_WORKSPACE' },
  ]);
  assert.equal(log.events.length, 5, 'every event reached the log');
  tap.append(denied('sbx_a', 'network'));
  assert.equal(log.events.length, 6);
});

test('a guest refused without end grows no host memory past MAX_KEPT (control: the log still has every one)', () => {
  const log = new MemoryAuditSink();
  const tap = new DenialTap(log);
  const watch = tap.watch('sbx_a');
  for (let i = 0; i < MAX_KEPT + 500; i++) tap.append(denied('sbx_a', 'network', i));
  assert.equal(watch.stop().length, MAX_KEPT);
  assert.equal(log.events.length, MAX_KEPT + 500);
});
