// Canonical JSON is what the audit chain hashes and what policies are keyed by: it must carry
// every key of what it was given, an own "__proto__" key (JSON.parse makes them) included.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalJson } from '../../src/core/canonical-json.ts';

test('an own "__proto__" key is kept, so two documents that differ only there hash differently (control: key order does not matter)', () => {
  const withProto = JSON.parse('{"b": 1, "__proto__": {"admin": true}, "a": 2}') as unknown;
  const without = JSON.parse('{"a": 2, "b": 1}') as unknown;
  assert.equal(canonicalJson(withProto), '{"__proto__":{"admin":true},"a":2,"b":1}');
  assert.notEqual(canonicalJson(withProto), canonicalJson(without));
  assert.equal(canonicalJson(JSON.parse('{"b": 1, "a": 2}')), canonicalJson(without), 'control');
  assert.equal(({} as { admin?: boolean }).admin, undefined, 'no prototype was touched');
});
