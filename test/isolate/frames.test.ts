// The worker channel's frames: whatever the chunking, every frame comes out whole and in order; a
// frame is joined once however many chunks carry it; oversized or broken frames stop the reader.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { readFrames, type FrameError } from '../../src/isolate/frames.ts';

function framed(values: unknown[]): Buffer {
  return Buffer.concat(
    values.map((v) => {
      const body = Buffer.from(JSON.stringify(v));
      const head = Buffer.alloc(4);
      head.writeUInt32BE(body.length);
      return Buffer.concat([head, body]);
    }),
  );
}

function reader(maxBytes = 1 << 30): { stream: PassThrough; got: unknown[]; errors: FrameError[] } {
  const stream = new PassThrough();
  const got: unknown[] = [];
  const errors: FrameError[] = [];
  readFrames(stream, { maxBytes, onFrame: (v) => got.push(v), onError: (e) => errors.push(e) });
  return { stream, got, errors };
}

test('frames come out whole and in order whatever the chunk boundaries', () => {
  const values = [{ t: 'a' }, 'x'.repeat(70_000), [1, 2, 3], { nested: { deep: 'é日\u0001' } }];
  const bytes = framed(values);
  for (const size of [1, 3, 4, 5, 1000, 65_536, bytes.length]) {
    const { stream, got, errors } = reader();
    for (let i = 0; i < bytes.length; i += size) stream.write(bytes.subarray(i, i + size));
    assert.deepEqual(got, values, `chunks of ${size}`);
    assert.equal(errors.length, 0);
  }
});

test('a large frame in many chunks is joined once, not once per chunk', () => {
  const value = 'y'.repeat(4 * 1024 * 1024);
  const bytes = framed([value]);
  const { stream, got } = reader();
  const original = Object.getOwnPropertyDescriptor(Buffer, 'concat') as PropertyDescriptor;
  const concat = Buffer.concat.bind(Buffer);
  let joins = 0;
  Buffer.concat = (list: readonly Uint8Array[], length?: number) => {
    joins++;
    return concat(list, length);
  };
  try {
    for (let i = 0; i < bytes.length; i += 65_536) stream.write(bytes.subarray(i, i + 65_536));
  } finally {
    Object.defineProperty(Buffer, 'concat', original);
  }
  assert.equal(got[0], value);
  assert.ok(joins <= 2, `${joins} joins for ${Math.ceil(bytes.length / 65_536)} chunks`);
});

test('an oversized frame is refused from its header, and a frame that is not JSON stops the reader', () => {
  const big = reader(100);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(1_000_000);
  big.stream.write(head);
  assert.match(String(big.errors[0]?.message), /exceeds 100/);
  big.stream.write(framed(['after']));
  assert.deepEqual(big.got, [], 'nothing is read after the refusal');
  const bad = reader();
  const body = Buffer.from('{not json');
  const h = Buffer.alloc(4);
  h.writeUInt32BE(body.length);
  bad.stream.write(Buffer.concat([h, body, framed(['after'])]));
  assert.equal(bad.errors.length, 1);
  assert.deepEqual(bad.got, []);
});
