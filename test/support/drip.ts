// An HTTP upstream that answers with headers and then one body byte a second, forever: never idle,
// never done. Tests use it to show that an exchange ends with whoever asked for it.
import { createServer, type AddressInfo, type Socket } from 'node:net';

export interface Drip {
  readonly port: number;
  /** Connections the upstream holds open now. */
  readonly held: () => number;
  readonly close: () => void;
}

export async function dripUpstream(): Promise<Drip> {
  const open = new Set<Socket>();
  const server = createServer((s) => {
    open.add(s);
    s.on('close', () => open.delete(s));
    s.on('error', () => undefined);
    s.once('data', () => {
      s.write('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n1\r\nx\r\n');
      const t = setInterval(() => s.write('1\r\nx\r\n'), 1000);
      s.on('close', () => clearInterval(t));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    held: () => open.size,
    close: () => {
      for (const s of open) s.destroy();
      server.close();
    },
  };
}

/** Waits (up to 2 s, in 50 ms steps) until the upstream holds no connection; returns how many it still holds. */
export async function heldAfterWait(drip: Drip): Promise<number> {
  for (let i = 0; i < 40 && drip.held() > 0; i++) await new Promise((r) => setTimeout(r, 50));
  return drip.held();
}
