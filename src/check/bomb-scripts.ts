/**
 * The bombs' code, per tier. Each bomb is bounded by itself (`target`): it stops on its own there,
 * so a bomb that is never stopped by a limit still ends, and says so. Numbers are the only things
 * put into the code, checked to be whole numbers.
 */
import { AirlockError } from '../core/errors.ts';

export const BOMB_KINDS = ['loop', 'memory', 'fork', 'disk', 'output'] as const;
export type BombKind = (typeof BOMB_KINDS)[number];

function n(value: number): string {
  if (!Number.isSafeInteger(value) || value < 0) throw new AirlockError('INTERNAL', `a bomb's bound must be a whole number, not ${value}`);
  return String(value);
}

/** Python, for the container tier. `target`: ms of CPU, MiB, processes, bytes, bytes. */
export function containerBomb(kind: BombKind, target: number, fileBytes: number): string {
  switch (kind) {
    case 'loop':
      return `import time\nwhile time.process_time() * 1000 < ${n(target)}:\n    pass\nprint("ENDED loop", int(time.process_time() * 1000), flush=True)\n`;
    case 'memory':
      return [
        'blocks, mib = [], 0',
        `while mib < ${n(target)}:`,
        '    blocks.append(b"\\x01" * (4 << 20))',
        '    mib += 4',
        '    if mib % 16 == 0: print("AT", mib, flush=True)',
        'print("ENDED memory", mib, flush=True)',
        '',
      ].join('\n');
    case 'fork':
      return [
        'import os, time',
        'n = 0',
        'try:',
        `    while n < ${n(target)}:`,
        '        if os.fork() == 0:',
        '            os.close(1); os.close(2); time.sleep(60); os._exit(0)',
        '        n += 1',
        '    print("ENDED fork", n, flush=True)',
        'except OSError as e:',
        '    print("REFUSED fork", n, e.errno, flush=True)',
        '',
      ].join('\n');
    case 'disk':
      return [
        'import errno',
        `total, target, per_file = 0, ${n(target)}, ${n(Math.max(1, Math.min(fileBytes, 8 << 20)))}`,
        'chunk = b"\\x02" * min(1 << 20, per_file)',
        'i = 0',
        'try:',
        '    while total < target:',
        '        written = 0',
        '        try:',
        '            with open("fill-%d" % i, "wb", buffering=0) as f:',
        '                while written + len(chunk) <= per_file and total < target:',
        '                    total += f.write(chunk); written += len(chunk)',
        '        except OSError as e:',
        '            if e.errno != errno.EFBIG: raise',
        '        i += 1',
        '    print("ENDED disk", total, flush=True)',
        'except OSError as e:',
        '    print("REFUSED disk", total, e.errno, flush=True)',
        '',
      ].join('\n');
    case 'output':
      return `import sys\nline, sent = "x" * 1023 + "\\n", 0\nwhile sent < ${n(target)}:\n    sys.stdout.write(line)\n    sent += 1024\nsys.stdout.flush()\nprint("ENDED output", sent, flush=True)\n`;
  }
}

/** How far past its CPU target the isolate loop bomb runs in wall time before it ends itself. */
const WALL_STRETCH = 20;

/** JavaScript, for the isolate tier; null where an isolate has no such resource. */
export function isolateBomb(kind: BombKind, target: number): string | null {
  switch (kind) {
    case 'loop':
      // A guest has no CPU clock: its own bound is wall time, and generous (WALL_STRETCH), since a
      // busy host stretches the wall clock and the CPU limit counts only CPU. The limits stop it first.
      return `const t0 = Date.now();\nwhile (Date.now() - t0 < ${n(target * WALL_STRETCH)}) {}\nconsole.log('ENDED loop', Date.now() - t0);\n`;
    case 'memory':
      return `const blocks = [];\nlet mib = 0;\nwhile (mib < ${n(target)}) {\n  blocks.push(new Array(131072).fill(mib));\n  mib += 1;\n  if (mib % 16 === 0) console.log('AT', mib);\n}\nconsole.log('ENDED memory', mib);\n`;
    case 'output':
      return `const line = 'x'.repeat(1023);\nlet sent = 0;\nwhile (sent < ${n(target)}) { console.log(line); sent += 1024; }\nconsole.log('ENDED output', sent);\n`;
    case 'fork':
    case 'disk':
      return null;
  }
}
