/**
 * The console's one stylesheet and one script, read once when the console is built and served
 * from /console/assets (the CSP's 'self'). Nothing else is served from that folder.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Asset {
  readonly body: string;
  readonly type: string;
}

export function loadAssets(): ReadonlyMap<string, Asset> {
  const dir = join(import.meta.dirname, 'assets');
  return new Map([
    ['console.css', { body: readFileSync(join(dir, 'console.css'), 'utf8'), type: 'text/css; charset=utf-8' }],
    ['console.js', { body: readFileSync(join(dir, 'console.js'), 'utf8'), type: 'text/javascript; charset=utf-8' }],
  ]);
}
