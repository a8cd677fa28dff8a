// The hostile-case conformance suite, run on every container driver. Each case is an attack beside
// its control (cases.ts); a driver that can't run here says why in the skip.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bwrapDriver, ContainerPool, ociDriver, type ContainerSandbox, type ContainerSandboxOptions } from '../../src/container/index.ts';
import { HOSTILE_CASES, type Probe } from './cases.ts';
import { sandboxes, tempHome } from './helpers.ts';

interface Variant {
  readonly name: string;
  /** What createContainerSandbox gets besides the defaults; `close` undoes what it made. */
  readonly make: (home: string) => { readonly options: Partial<ContainerSandboxOptions>; readonly close: () => Promise<void> };
  readonly skip: string | false;
}

const none = () => Promise.resolve();

const DRIVERS: readonly Variant[] = [
  { name: 'bwrap', make: () => ({ options: { driver: bwrapDriver() }, close: none }), skip: false },
  {
    // The pool's sandboxes run their first command in a standby launched ahead: every case runs
    // twice in one sandbox, so the control runs in the standby and the attack in a fresh launch,
    // and a second sandbox runs the attack in its standby (below).
    name: 'bwrap from a pool',
    make: (home) => {
      const pool = new ContainerPool({ home, size: 1 });
      return { options: { pool }, close: () => pool.close() };
    },
    skip: false,
  },
  { name: 'oci (runc)', make: () => ({ options: { driver: ociDriver() }, close: none }), skip: false },
  {
    name: 'oci (runsc)',
    make: () => ({ options: { driver: ociDriver({ runtime: 'runsc' }) }, close: none }),
    // Checked 2026-12-01 with Debian's runsc 0.0~20221219 (--platform=ptrace): it starts only
    // without host rlimits on its own process, then stat(2) of directories fails with EINVAL
    // ("ls /" fails), writes to the bound workspace are lost, and the profile's seccomp filter
    // is not applied inside (Seccomp: 0): 15 of 17 cases fail, so it is not offered here.
    skip: 'runsc (gVisor, 2022 Debian build) runs here but is not conformant: stat of directories fails with EINVAL, bound-workspace writes are lost, the OCI seccomp profile is not applied',
  },
];

function fill(p: Probe, vars: Readonly<Record<string, string>>): Probe {
  let code = p.code;
  for (const [k, v] of Object.entries(vars)) code = code.replaceAll(`{{${k}}}`, v);
  return { lang: p.lang, code };
}

function run(sbx: ContainerSandbox, p: Probe) {
  return sbx.exec(p.lang === 'py' ? ['python3', '-c', p.code] : ['sh', '-c', p.code], { timeoutMs: 4000 });
}

for (const driver of DRIVERS) {
  describe(`container conformance on ${driver.name}`, { skip: driver.skip }, () => {
    const state: { home?: Awaited<ReturnType<typeof tempHome>>; box?: ReturnType<typeof sandboxes>; sbx?: ContainerSandbox; variant?: ReturnType<Variant['make']> } = {};
    before(async () => {
      state.home = await tempHome();
      state.box = sandboxes(state.home.home);
      state.variant = driver.make(state.home.home);
      state.sbx = (await state.box.make({}, state.variant.options)).sbx;
    });
    after(async () => {
      await state.box?.cleanup();
      await state.variant?.close();
      await state.home?.done();
    });
    for (const c of HOSTILE_CASES) {
      test(c.name, async () => {
        const sbx = state.sbx!;
        const hook = c.host === undefined ? { vars: {}, finish: () => Promise.resolve() } : await c.host();
        try {
          const control = await run(sbx, fill(c.control, hook.vars));
          c.controlWorks(control);
          const attack = await run(sbx, fill(c.attack, hook.vars));
          assert.notEqual(attack.status, 'timeout', 'the attack must end on its own');
          c.attackDenied(attack);
          if (driver.name.includes('pool')) {
            // The attack as the first command of a fresh sandbox: its standby runs it.
            const fresh = (await state.box!.make({}, state.variant!.options)).sbx;
            try {
              const first = await run(fresh, fill(c.attack, hook.vars));
              assert.notEqual(first.status, 'timeout', 'the attack must end on its own');
              c.attackDenied(first);
            } finally {
              await fresh.destroy();
            }
          }
        } finally {
          await hook.finish();
        }
      });
    }
  });
}
