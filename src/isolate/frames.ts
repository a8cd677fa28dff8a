/**
 * Length-prefixed JSON frames over a byte stream (the worker's socket). JSON, not v8.serialize,
 * because the host parses what a possibly compromised worker sends: JSON.parse builds only plain
 * data, and the length prefix lets the reader refuse an oversized frame before buffering it.
 */
import type { Readable, Writable } from 'node:stream';

export class FrameError extends Error {}

/** Calls `onFrame` for each complete frame; calls `onError` once and stops on a bad frame. */
export function readFrames(
  stream: Readable,
  options: { maxBytes: number; onFrame: (value: unknown) => void; onError: (error: FrameError) => void },
): void {
  const chunks: Buffer[] = [];
  let buffered = 0;
  let failed = false;
  stream.on('data', (chunk: Buffer) => {
    if (failed) return;
    chunks.push(chunk);
    buffered += chunk.length;
    while (buffered >= 4) {
      const head = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
      const size = head.readUInt32BE(0);
      if (size > options.maxBytes) {
        failed = true;
        options.onError(new FrameError(`frame of ${size} bytes exceeds ${options.maxBytes}`));
        return;
      }
      if (head.length < 4 + size) {
        chunks.length = 0;
        chunks.push(head);
        return;
      }
      const body = head.toString('utf8', 4, 4 + size);
      const rest = head.subarray(4 + size);
      chunks.length = 0;
      if (rest.length > 0) chunks.push(rest);
      buffered = rest.length;
      let value: unknown;
      try {
        value = JSON.parse(body);
      } catch {
        failed = true;
        options.onError(new FrameError('frame is not JSON'));
        return;
      }
      options.onFrame(value);
    }
  });
}

export function writeFrame(stream: Writable, value: unknown): void {
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(body.length, 0);
  stream.write(Buffer.concat([head, body]));
}
