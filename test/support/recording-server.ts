/**
 * A loopback HTTP server that records every request it sees (`METHOD /path`) and answers "ok":
 * the upstream whose log says whether a forbidden request got through.
 *
 * @example
 *   await using up = await recordingServer();
 *   …
 *   assert.deepEqual(up.seen, ['GET /public/a'], 'the server saw only the granted request');
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordingServer extends AsyncDisposable {
  readonly seen: string[];
  readonly port: number;
}

export async function recordingServer(): Promise<RecordingServer> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { seen, port, [Symbol.asyncDispose]: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
