// The package's public surface, pinned (STYLE.md §16): an export added or removed shows up here.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as airlock from '../src/index.ts';

test('the public exports are exactly these', () => {
  assert.deepEqual(Object.keys(airlock).sort(), ['AirlockError', 'ERROR_CODES', 'MemoryAuditSink', 'Sandbox', 'compilePolicy', 'createAirlock']);
});

test('every error code maps to an exit code, an HTTP status and a JSON-RPC code, once', () => {
  const rpc = new Set<number>();
  for (const [code, info] of Object.entries(airlock.ERROR_CODES)) {
    assert.ok(Number.isInteger(info.exit) && info.exit > 0 && info.exit < 128, code);
    assert.ok(info.http >= 400 && info.http < 600, code);
    assert.ok(info.rpc < 0, code);
    assert.ok(info.hint.length > 10, code);
    rpc.add(info.rpc);
  }
  assert.ok(rpc.size > 5);
});
