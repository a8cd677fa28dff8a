/**
 * The behaviour every tier owes a caller of `createAirlock().run()`, as data (Hono's
 * `router/common.case.test.ts` style): each case gives the request per tier, in a language that
 * tier runs, and what must come back. A tier that can't run a case says why in `skip`.
 */
import type { ErrorCode, RunRequest, RunStatus, Tier, Violation } from '../../src/index.ts';

export interface CaseContext {
  /** A loopback HTTP server that records the paths asked of it. */
  readonly port: number;
  readonly seen: readonly string[];
}

export interface Expected {
  readonly status: RunStatus;
  readonly code: ErrorCode | null;
  readonly stdout?: string;
  readonly violations?: readonly Pick<Violation, 'door' | 'code'>[];
  /**
   * What the log holds of it: `sandbox` (created, run started, run ended, destroyed), `run` (refused
   * by its code's checks before any sandbox: run started and ended), `nothing` (a request refused
   * before it was a run: bad request, bad policy).
   */
  readonly recorded: 'sandbox' | 'run' | 'nothing';
}

export interface Case {
  readonly name: string;
  /** The request for each tier, without `tier` (the suite names it). */
  readonly request: (ctx: CaseContext) => Partial<Record<Tier, RunRequest>>;
  readonly skip?: Partial<Record<Tier, string>>;
  readonly expect: Expected;
  /** More to check after the run (the forbidden effect did not happen, say). */
  readonly after?: (ctx: CaseContext) => void;
}

/** Every limit but the one under test is generous, so only that one can stop the run (a fresh machine is slow). */
const ROOMY = { wallMs: 20_000, cpuMs: 15_000, memoryMiB: 128 };
const limits = (own: Record<string, number>) => ({ version: 1 as const, limits: { ...ROOMY, ...own } });

export const CASES: readonly Case[] = [
  {
    name: 'a clean run: ok, its output, no error',
    request: () => ({
      isolate: { code: "console.log('hi'); export default 1" },
      container: { language: 'python', code: "print('hi')" },
    }),
    expect: { status: 'ok', code: null, stdout: 'hi\n', violations: [], recorded: 'sandbox' },
  },
  {
    name: 'the code fails: error/GUEST_ERROR',
    request: () => ({
      isolate: { code: "throw new Error('boom')" },
      container: { language: 'python', code: "raise SystemExit('boom')" },
    }),
    expect: { status: 'error', code: 'GUEST_ERROR', recorded: 'sandbox' },
  },
  {
    name: 'wall-clock limit: timeout/WALL_TIMEOUT',
    request: () => ({
      isolate: { code: 'await new Promise(() => {})', policy: limits({ wallMs: 400, cpuMs: 400 }) },
      container: { language: 'sh', code: 'sleep 30', policy: limits({ wallMs: 400, cpuMs: 400 }) },
    }),
    expect: { status: 'timeout', code: 'WALL_TIMEOUT', recorded: 'sandbox' },
  },
  {
    name: 'CPU limit: timeout/CPU_TIMEOUT',
    request: () => ({
      isolate: { code: 'for (;;) {}', policy: limits({ cpuMs: 300 }) },
      container: { language: 'python', code: 'while True: pass', policy: limits({ cpuMs: 300 }) },
    }),
    expect: { status: 'timeout', code: 'CPU_TIMEOUT', recorded: 'sandbox' },
  },
  {
    name: 'memory limit: memory/MEMORY_LIMIT',
    request: () => ({
      isolate: { code: 'const keep = []; for (;;) keep.push(new Array(1e6).fill(1.5));', policy: limits({ memoryMiB: 32 }) },
      container: { language: 'python', code: 'keep = []\nwhile True: keep.append(bytearray(16 << 20))', policy: limits({ memoryMiB: 32 }) },
    }),
    expect: { status: 'memory', code: 'MEMORY_LIMIT', recorded: 'sandbox' },
  },
  {
    name: 'output limit: killed/OUTPUT_LIMIT',
    request: () => ({
      isolate: { code: "for (;;) console.log('x'.repeat(1000))", policy: limits({ outputBytes: 4096 }) },
      container: { language: 'sh', code: 'yes xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', policy: limits({ outputBytes: 4096 }) },
    }),
    expect: { status: 'killed', code: 'OUTPUT_LIMIT', recorded: 'sandbox' },
  },
  {
    name: 'an egress request off its routes is denied, listed in violations, and reaches nothing; the granted one does',
    request: ({ port }) => {
      const policy = { version: 1 as const, network: { routes: [{ host: '127.0.0.1', scheme: 'http' as const, port, paths: ['/ok'] }] } };
      return {
        isolate: { policy, code: `await fetch('http://127.0.0.1:${port}/ok/isolate'); try { await fetch('http://127.0.0.1:${port}/secret/isolate'); } catch {} console.log('done')` },
        container: { policy, language: 'sh', code: `curl -s -o /dev/null http://127.0.0.1:${port}/ok/container; curl -s -o /dev/null http://127.0.0.1:${port}/secret/container; echo done` },
      };
    },
    expect: { status: 'ok', code: null, stdout: 'done\n', violations: [{ door: 'network', code: 'EGRESS_NOT_GRANTED' }], recorded: 'sandbox' },
    after: ({ seen }) => {
      if (seen.some((p) => p.startsWith('/secret'))) throw new Error(`a denied request reached the server: ${seen.join(', ')}`);
    },
  },
  {
    name: 'a tool that is not granted is denied and listed in violations',
    request: () => ({ isolate: { code: "try { await tools.add({ a: 1, b: 2 }); } catch {} console.log('done')" } }),
    skip: { container: 'the container tier has no host tools: tools are an isolate door (a policy granting them picks the isolate tier)' },
    expect: { status: 'ok', code: null, stdout: 'done\n', violations: [{ door: 'tool', code: 'TOOL_NOT_GRANTED' }], recorded: 'sandbox' },
  },
  {
    name: 'an invalid policy is refused before anything runs: invalid/INVALID_POLICY',
    request: () => ({
      isolate: { code: 'export default 1', policy: { version: 1, limits: { wallMs: -1 } } },
      container: { language: 'python', code: 'print(1)', policy: { version: 1, limits: { wallMs: -1 } } },
    }),
    expect: { status: 'invalid', code: 'INVALID_POLICY', recorded: 'nothing' },
  },
  {
    name: 'an unknown request key is refused: invalid/INVALID_REQUEST',
    request: () => ({
      isolate: { code: 'export default 1', timeout: 5 } as RunRequest,
      container: { language: 'python', code: 'print(1)', timeout: 5 } as RunRequest,
    }),
    expect: { status: 'invalid', code: 'INVALID_REQUEST', recorded: 'nothing' },
  },
  {
    name: 'an unknown policy key is refused: invalid/INVALID_POLICY',
    request: () => ({
      isolate: { code: 'export default 1', policy: { version: 1, everything: true } as never },
      container: { language: 'python', code: 'print(1)', policy: { version: 1, everything: true } as never },
    }),
    expect: { status: 'invalid', code: 'INVALID_POLICY', recorded: 'nothing' },
  },
  {
    name: 'code over limits.codeBytes is refused before any sandbox: invalid/CODE_TOO_LARGE',
    request: () => ({
      isolate: { code: `export default 1; // ${'x'.repeat(2048)}`, policy: { version: 1, limits: { codeBytes: 1024 } } },
      container: { language: 'python', code: `print(1) # ${'x'.repeat(2048)}`, policy: { version: 1, limits: { codeBytes: 1024 } } },
    }),
    expect: { status: 'invalid', code: 'CODE_TOO_LARGE', recorded: 'run' },
  },
  {
    name: 'a syntax error is refused before running: invalid/SYNTAX_ERROR',
    request: () => ({ isolate: { code: 'export default 1;\nconst = 2;' } }),
    skip: { container: 'the container tier does not parse code before running it: the interpreter reports the syntax error as the run\'s own error' },
    expect: { status: 'invalid', code: 'SYNTAX_ERROR', recorded: 'run' },
  },
];
