// Child process for durability.test.ts: an airlock on the default audit log of HOME with the given
// durability runs 12 isolate runs (4 at a time), prints each run's id as its result comes back,
// appends one event it never flushes, prints "ready", and waits to be SIGKILLed.
//   node durability-child.ts batched|durable HOME
import { writeSync } from 'node:fs';
import { createAirlock } from '../../src/runtime/airlock.ts';

const [mode = '', home = ''] = process.argv.slice(2);
if (mode !== 'batched' && mode !== 'durable') throw new Error(`unknown durability ${mode}`);
// A window far longer than the test: nothing here depends on the fsync having happened.
const airlock = createAirlock({ home, audit: mode === 'batched' ? { durability: 'batched', flushMs: 1000 } : { durability: 'durable' } });
for (let wave = 0; wave < 3; wave++) {
  await Promise.all(Array.from({ length: 4 }, async (_, i) => {
    const result = await airlock.run({ tenant: 'killed', code: `export default ${wave * 4 + i}` });
    if (result.status !== 'ok') throw new Error(`run failed: ${JSON.stringify(result.error)}`);
    writeSync(1, `${result.id}\n`);
  }));
}
airlock.audit.append({ kind: 'sandbox.destroyed', tenant: 'killed', sandbox: 'sbx_never_flushed', reason: 'never flushed' });
writeSync(1, 'ready\n');
// Kept alive until the parent's SIGKILL.
setInterval(() => undefined, 60_000);
