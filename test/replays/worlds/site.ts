// A real web site on loopback, reached by the guest's own `fetch` through airlock's egress gateway
// (not through a tool): it serves pages and records every request it got, query and body included.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { INJECTION } from './people.ts';

export class Site {
  readonly requests: { readonly method: string; readonly url: string; readonly body: string }[] = [];
  readonly #server: Server;
  #port = 0;

  constructor() {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.requests.push({ method: req.method ?? '', url: req.url ?? '', body: Buffer.concat(chunks).toString('utf8') });
        res.setHeader('content-type', 'text/plain');
        res.end(req.url?.startsWith('/offer') === true ? INJECTION : 'Markets rose 2% on Tuesday.');
      });
    });
  }

  static async start(): Promise<Site> {
    const site = new Site();
    await new Promise<void>((resolve) => site.#server.listen(0, '127.0.0.1', resolve));
    site.#port = (site.#server.address() as AddressInfo).port;
    return site;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  get port(): number {
    return this.#port;
  }

  /** Whether any request carried `text` (in its path, query or body). */
  saw(text: string): boolean {
    return this.requests.some((r) => `${decodeURIComponent(r.url)}\n${r.body}`.includes(text));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
