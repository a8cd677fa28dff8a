/**
 * Length-prefixed JSON frames over a byte stream (the worker's socket). JSON, not v8.serialize,
 * because the host parses what a possibly compromised worker sends: JSON.parse builds only plain
 * data, and the length prefix lets the reader refuse an oversized frame before buffering it.
 */
import type { Readable, Writable } from 'node:stream';

export class FrameError extends Error {}

/** How much of a frame's start `admit` sees: enough for `{"t":"tool",`. */
export const PEEK_BYTES = 16;

/**
 * Calls `onFrame` for each complete frame; calls `onError` once and stops on a bad frame, or when
 * `onFrame` throws (`onError` must not throw). Returns
 * the function the stream's 'data' events call, for bytes read from the same stream by other
 * means (the worker's reply spin): they must come in stream order.
 *
 * Chunks are kept as they arrive and joined once, when a frame is complete: a large frame costs
 * its size in copies, not its size times its number of chunks (a 32 MiB frame in 64 KiB chunks
 * took seconds of the host's one thread when every chunk re-joined the buffer).
 */
export function readFrames(
  stream: Readable,
  options: {
    maxBytes: number;
    onFrame: (value: unknown) => void;
    onError: (error: FrameError) => void;
    /**
     * Called once per frame, before its body is buffered or parsed, with its length and its first
     * PEEK_BYTES bytes (fewer if the frame is shorter). False stops reading: the caller has dealt
     * with the stream (no onError follows).
     */
    admit?: (size: number, head: Buffer) => boolean;
  },
): (chunk: Buffer) => void {
  let chunks: Buffer[] = [];
  let buffered = 0;
  /** Bytes of the frame being read (header included), once its header is in; else null. */
  let want: number | null = null;
  let admitted = false;
  let failed = false;
  const peek = (n: number): Buffer => {
    const head = Buffer.alloc(n);
    let at = 0;
    for (const c of chunks) {
      if (at >= n) break;
      at += c.copy(head, at, 0, Math.min(c.length, n - at));
    }
    return head;
  };
  const take = (n: number): Buffer => {
    const all = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, buffered);
    const rest = all.subarray(n);
    chunks = rest.length > 0 ? [rest] : [];
    buffered = rest.length;
    return all.subarray(0, n);
  };
  const push = (chunk: Buffer): void => {
    if (failed) return;
    chunks.push(chunk);
    buffered += chunk.length;
    for (;;) {
      if (want === null) {
        if (buffered < 4) return;
        const head = take(4);
        const size = head.readUInt32BE(0);
        if (size > options.maxBytes) {
          failed = true;
          options.onError(new FrameError(`frame of ${size} bytes exceeds ${options.maxBytes}`));
          return;
        }
        want = size;
        admitted = options.admit === undefined;
      }
      if (!admitted) {
        const n = Math.min(want, PEEK_BYTES);
        if (buffered < n) return;
        if (!(options.admit?.(want, peek(n)) ?? true)) {
          failed = true;
          return;
        }
        admitted = true;
      }
      if (buffered < want) return;
      const body = take(want).toString('utf8');
      want = null;
      let value: unknown;
      try {
        value = JSON.parse(body);
      } catch {
        failed = true;
        options.onError(new FrameError('frame is not JSON'));
        return;
      }
      // Whatever handling a frame throws (a bug, or a host whose prototypes a handler polluted)
      // ends this stream only: thrown out of a 'data' listener it would end the host process.
      try {
        options.onFrame(value);
      } catch (error) {
        failed = true;
        options.onError(new FrameError(`handling a frame failed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`.slice(0, 500)));
        return;
      }
    }
  };
  stream.on('data', push);
  return push;
}

export function writeFrame(stream: Writable, value: unknown): void {
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(body.length, 0);
  stream.write(Buffer.concat([head, body]));
}
