// killAll on cgroup v1 (no cgroup.kill): forks are refused with pids.max 0 while the kill loop
// runs, and nothing is ever left frozen. A cgroup a host froze and then died with (what the
// freezer-based kill did when its host exited half-way) holds unkillable processes; the next
// killAll thaws it and they die.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cgroup, joinAndExec } from '../../src/os/cgroup.ts';

const layout = await Cgroup.layout();
const v1 = layout.version === 1 ? false : 'cgroup v2 kills with cgroup.kill, not this path';

function startIn(cg: Cgroup, script: string): ChildProcess {
  const argv = joinAndExec(cg, ['/bin/sh', '-c', script]);
  return spawn(argv[0] as string, argv.slice(1), { stdio: 'ignore', detached: true });
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await sleep(10);
  }
  assert.fail(`timed out waiting for ${what}`);
}

const alive = (pid: number): boolean => existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));

test('a cgroup left frozen by a host that died mid-kill: SIGKILL alone does not land; killAll thaws it and everything dies', { skip: v1 }, async () => {
  const cg = await Cgroup.create(`test-frozen-${process.pid}`, { pids: 16 });
  try {
    startIn(cg, 'sleep 60 & sleep 60 & wait');
    await waitFor('the processes', async () => (await cg.pids()).length >= 3);
    const pids = await cg.pids();
    const freezer = cg.dirs.find((d) => d.includes('/freezer/')) ?? '';
    writeFileSync(`${freezer}/freezer.state`, 'FROZEN');
    await waitFor('the freeze', () => readFileSync(`${freezer}/freezer.state`, 'utf8').trim() === 'FROZEN');
    for (const p of pids) process.kill(p, 'SIGKILL');
    await sleep(200);
    assert.ok(pids.every(alive), 'the hazard: frozen processes outlive SIGKILL');
    await (await Cgroup.attach(cg.name)).killAll();
    assert.deepEqual(await cg.pids(), []);
    await waitFor('the processes to be gone', () => pids.every((p) => !alive(p)));
    assert.equal(readFileSync(`${freezer}/freezer.state`, 'utf8').trim(), 'THAWED', 'and the cgroup is not left frozen');
  } finally {
    await cg.destroy();
  }
});

test('a fork bomb is killed with forks refused meanwhile, and pids.max is given back after: the next command forks (control)', { skip: v1 }, async () => {
  const cg = await Cgroup.create(`test-bomb-${process.pid}`, { pids: 32 });
  const pidsMax = `${cg.dirs.find((d) => d.includes('/pids/')) ?? ''}/pids.max`;
  try {
    startIn(cg, 'while :; do sleep 30 & done');
    await waitFor('the bomb to fill the cgroup', async () => (await cg.pids()).length >= 30);
    await cg.killAll();
    assert.deepEqual(await cg.pids(), [], 'every process is gone');
    assert.equal(readFileSync(pidsMax, 'utf8').trim(), '32', 'the limit is back');
    // Killed tasks count against pids.current until they are reaped (by init, for the orphans).
    await waitFor('the dead to be reaped', () => Number(readFileSync(pidsMax.replace('pids.max', 'pids.current'), 'utf8')) === 0);
    const child = startIn(cg, 'sleep 0.1 & wait; exit 7');
    const code = await new Promise((r) => child.on('exit', r));
    assert.equal(code, 7, 'control: a command in the same cgroup forks again');
  } finally {
    await cg.destroy();
  }
});

test('a host that dies in the middle of a kill leaves no process frozen: what is left can still be killed', { skip: v1 }, async () => {
  const name = `test-kill-and-die-${process.pid}`;
  const host = spawn(process.execPath, [join(import.meta.dirname, 'fixtures', 'kill-and-die.ts'), name], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  host.stdout.on('data', (b: Buffer) => (out += b.toString()));
  const code = await new Promise((r) => host.on('exit', r));
  assert.equal(code, 0, 'control: the host died with its kill begun and not finished');
  const pids = JSON.parse(out) as number[];
  assert.ok(pids.length >= 3, 'control: the host had put processes there');
  const cg = await Cgroup.attach(name);
  try {
    for (const p of pids) if (alive(p)) process.kill(p, 'SIGKILL');
    await waitFor('every process to be gone after SIGKILL', () => pids.every((p) => !alive(p)));
  } finally {
    await cg.destroy();
  }
});
