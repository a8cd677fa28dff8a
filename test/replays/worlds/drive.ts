// Files with sharing: an owner, principals it is shared with, a public flag and content.
// f-secret is the user's private file; f-plan is shared with ANN; f-eve-shared is a file EVE shared
// with the user (so EVE reads whatever is written into it).
import { a, ANN, EVE, FILE_SECRET, INJECTION, ME, object, STR, STRS, type Kinds, type ObjectFacts, type Tool } from './people.ts';

export interface DriveFile {
  readonly id: string;
  readonly owner: string;
  readonly shared: Record<string, 'read' | 'write'>;
  public: boolean;
  content: string;
}

export class DriveWorld {
  readonly files = new Map<string, DriveFile>([
    ['f-secret', { id: 'f-secret', owner: ME, shared: {}, public: false, content: `root password: ${FILE_SECRET}` }],
    ['f-plan', { id: 'f-plan', owner: ME, shared: { [ANN]: 'write' }, public: false, content: 'offsite plan: tuesday' }],
    ['f-eve-shared', { id: 'f-eve-shared', owner: EVE, shared: { [ME]: 'write' }, public: false, content: INJECTION }],
  ]);
  #next = 0;
  /**
   * When set, drive.write's handler returns only after this settles, with its write already
   * visible (a real store commits, then the handler still has work to do): lets a replay interleave
   * another run at that point deterministically.
   */
  writeHold: Promise<void> | null = null;
  /** When set, drive.write fails after its write is made (a store that commits, then errs). */
  failAfterWrite = false;

  /** Whether `who` can read a file holding `text` (its owner, shared with, or public). */
  readable(who: string, text: string): boolean {
    return [...this.files.values()].some((f) => f.content.includes(text) && (f.public || f.owner === who || f.shared[who] !== undefined));
  }

  #facts(id: string): ObjectFacts | undefined {
    const f = this.files.get(id);
    return f === undefined ? undefined : { readers: f.public ? '*' : [f.owner, ...Object.keys(f.shared)], authors: [f.owner, ...Object.entries(f.shared).flatMap(([p, r]) => (r === 'write' ? [p] : []))] };
  }

  kinds(): Kinds {
    return { 'drive:file': { currentLabel: (id) => this.#facts(id) } };
  }

  tools(): Record<string, Tool> {
    const file = (args: unknown): DriveFile | undefined => this.files.get(String(a(args).fileId));
    return {
      'drive.read': {
        // What a reader sees: the file and who may write it (its possible authors).
        handler: (args) => {
          const f = file(args);
          return f === undefined ? null : { ...f, editors: Object.entries(f.shared).flatMap(([p, r]) => (r === 'write' ? [p] : [])) };
        },
        operation: 'read',
        resources: ['drive:file/{fileId}'],
        args: object({ fileId: STR }),
        labels: { reveals: [{ kind: 'drive:file', id: 'id', readers: ['owner', 'shared{}'], authors: ['owner', 'editors[]'] }] },
      },
      'drive.create': {
        handler: (args) => {
          const id = `f-new-${++this.#next}`;
          this.files.set(id, { id, owner: ME, shared: {}, public: false, content: String(a(args).content) });
          return { id };
        },
        operation: 'write',
        args: object({ content: STR }),
        // A new private file: nobody but the user observes it; it keeps the content's label.
        labels: { reveals: [], sink: { audience: [], stores: { kind: 'drive:file', id: { result: 'id' }, mode: 'new' } } },
      },
      'drive.write': {
        handler: async (args) => {
          const f = file(args);
          if (f !== undefined) f.content = String(a(args).content);
          await this.writeHold;
          if (this.failAfterWrite) throw new Error('replica did not acknowledge the write');
          return { ok: f !== undefined };
        },
        operation: 'write',
        resources: ['drive:file/{fileId}'],
        args: object({ fileId: STR, content: STR }),
        labels: { reveals: [], sink: { audience: [{ from: 'readers', kind: 'drive:file', id: 'fileId' }], control: ['fileId'], stores: { kind: 'drive:file', id: { argument: 'fileId' }, mode: 'replace' } } },
      },
      'drive.share': {
        handler: (args) => {
          const f = file(args);
          for (const p of (a(args).with as string[] | undefined) ?? []) if (f !== undefined) f.shared[p] = 'read';
          return { ok: f !== undefined };
        },
        operation: 'share',
        resources: ['drive:file/{fileId}'],
        args: object({ fileId: STR, with: STRS }),
        labels: { reveals: [], sink: { audience: [{ from: 'argument', path: 'with[]' }], carries: [{ kind: 'drive:file', id: 'fileId' }], control: ['fileId', 'with[]'] } },
      },
      'drive.delete': {
        handler: (args) => ({ ok: this.files.delete(String(a(args).fileId)) }),
        operation: 'delete',
        resources: ['drive:file/{fileId}'],
        args: object({ fileId: STR }),
        // Nobody else observes a deletion, but which file is gone is chosen: a control argument.
        labels: { reveals: [], sink: { audience: [], control: ['fileId'] } },
      },
      'drive.publish': {
        handler: (args) => {
          const f = file(args);
          if (f !== undefined) f.public = true;
          return { ok: f !== undefined };
        },
        operation: 'share',
        resources: ['drive:file/{fileId}'],
        args: object({ fileId: STR }),
        labels: { reveals: [], sink: { audience: [{ from: 'principals', principals: ['*'] }], carries: [{ kind: 'drive:file', id: 'fileId' }], control: ['fileId'] } },
      },
    };
  }
}
