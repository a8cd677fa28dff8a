// The policy's environment reaches bwrap on a pipe (--args), not on its command line: every local
// user can read every process's /proc/PID/cmdline (ps shows it), but not another uid's environment.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { processesOf, sandboxFixture } from './helpers.ts';

const state = sandboxFixture();

async function cmdlines(): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const text = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    if (text !== '') out.set(Number(name), text.replaceAll('\0', ' '));
  }
  return out;
}

test("a policy env value is in the sandbox's environment but on no process's command line", { timeout: 60_000 }, async () => {
  const secret = `sk-live-${randomBytes(12).toString('hex')}`;
  const { sbx, uid } = await state.box!.make({ env: { API_TOKEN: secret } });
  const seen: { lines: Map<number, string> | undefined } = { lines: undefined };
  let printed = '';
  const ended = sbx.exec(['sh', '-c', 'echo "$API_TOKEN"; exec sleep 30'], {
    onStdout: (chunk) => {
      printed += chunk;
      if (seen.lines !== undefined || !printed.includes('\n')) return;
      // The command runs (it printed), so bwrap is up with every argument it was given.
      seen.lines = new Map();
      void cmdlines().then(async (lines) => {
        seen.lines = lines;
        // Then end the sleep: its pid is the sandbox uid's process whose command line is the sleep.
        for (const pid of await processesOf(uid)) if (lines.get(pid)?.startsWith('sleep 30') === true) process.kill(pid, 'SIGKILL');
      });
    },
  });
  const r = await ended;
  // Control: the value reached the command.
  assert.equal(printed, `${secret}\n`);
  assert.equal(r.exitCode, 128 + 9, 'ended by the test, not by a timeout');
  const lines = seen.lines;
  assert.ok(lines !== undefined && lines.size > 0);
  const bwraps = [...lines.entries()].filter(([pid, l]) => l.startsWith('/usr/bin/bwrap') && pid > 0);
  assert.ok(bwraps.length > 0, 'the sandbox\'s bwrap was running when the command lines were read');
  const leaks = [...lines.values()].filter((l) => l.includes(secret));
  assert.deepEqual(leaks, [], 'the value is on no command line');
});
