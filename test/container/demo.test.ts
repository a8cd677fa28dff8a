import assert from 'node:assert/strict';
import { test } from 'node:test';
import { demoContainer } from '../../src/cli/demo-container.ts';
import { createAirlock } from '../../src/index.ts';
import { tempHome } from './helpers.ts';

test('the container demo works in its workspace and is denied /etc/shadow, the home and the network', async () => {
  const home = await tempHome();
  try {
    const lines: string[] = [];
    {
      await using airlock = createAirlock({ home: home.home });
      await demoContainer((l) => lines.push(l), airlock);
    }
    const text = lines.join('\n');
    assert.match(text, /wrote and read back: written inside the sandbox/);
    assert.match(text, /\/etc\/shadow: denied/);
    assert.match(text, /host home .*: denied/);
    assert.match(text, /network 1\.1\.1\.1:443: denied/);
    assert.ok(!text.includes('REACHED'), text);
  } finally {
    await home.done();
  }
});
