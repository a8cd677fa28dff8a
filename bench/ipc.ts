/**
 * The floor under a tool call's round trip: 64-byte messages between this process and a child
 * Node process over a socket pair (fd 3, as the host and an isolate worker talk), no framing, no
 * policy. `asleep`: both ends wait in their event loops. `spinning`: the child reads its socket in a
 * loop (as the worker does after a tool call: reply-spin.ts) while this end waits in its event loop.
 */
import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { median } from './stats.ts';

const ECHO = {
  asleep: `const s = new (require('node:net').Socket)({ fd: 3, readable: true, writable: true }); s.on('data', (d) => s.write(d)); s.on('close', () => process.exit(0));`,
  spinning: `const fs = require('node:fs'); const b = Buffer.alloc(65536); for (;;) { let n; try { n = fs.readSync(3, b, 0, b.length, null); } catch { continue; } if (n === 0) process.exit(0); fs.writeSync(3, b, 0, n); }`,
} as const;

/** Round-trip p50 in µs over `count` messages. */
export async function ipcRoundTripUs(mode: keyof typeof ECHO, count: number): Promise<number> {
  const child = spawn(process.execPath, ['-e', ECHO[mode]], { stdio: ['ignore', 'ignore', 'inherit', 'pipe'] });
  const socket = child.stdio[3] as Socket;
  const message = Buffer.alloc(64, 0x78);
  const answered: { next: () => void } = { next: () => undefined };
  socket.on('data', () => answered.next());
  const samples: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const t = performance.now();
      await new Promise<void>((resolve) => {
        answered.next = resolve;
        socket.write(message);
      });
      samples.push((performance.now() - t) * 1000);
    }
  } finally {
    socket.destroy();
    child.kill('SIGKILL');
  }
  return median(samples.slice(Math.floor(count / 10)));
}
