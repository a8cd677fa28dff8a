/**
 * The container sandboxes one MCP session made. Ids are the sandboxes' own (random); a session
 * sees only its own, so another session's id is answered like one that does not exist. When the
 * session ends (stdio closed, HTTP session deleted or dropped) every one of them is destroyed.
 *
 * @example
 *   const mine = new SessionSandboxes(4);
 *   mine.add(await airlock.sandbox({ tier: 'container', policy }));
 *   transport.onclose = () => void mine.destroyAll();
 */
import type { ContainerSandbox } from '../index.ts';
import { AirlockError } from '../core/errors.ts';

export class SessionSandboxes {
  readonly #live = new Map<string, ContainerSandbox>();
  readonly #max: number;
  #closed = false;

  constructor(max: number) {
    this.#max = max;
  }

  /** Refuses past `max` live sandboxes in this session (QUOTA_SANDBOXES). */
  admit(): void {
    if (this.#closed) throw new AirlockError('SANDBOX_CLOSED', 'this MCP session has ended: connect again');
    if (this.#live.size >= this.#max) {
      throw new AirlockError('QUOTA_SANDBOXES', `this MCP session already has ${this.#live.size} sandboxes: destroy one with sandbox_destroy first (ids: ${[...this.#live.keys()].join(', ')})`);
    }
  }

  /** Keeps `box`; a session that ended while it was being made destroys it at once. */
  async add(box: ContainerSandbox): Promise<void> {
    if (this.#closed) {
      await box.destroy();
      throw new AirlockError('SANDBOX_CLOSED', 'this MCP session ended while the sandbox was being made: it was destroyed again');
    }
    this.#live.set(box.id, box);
  }

  get(id: string): ContainerSandbox {
    const box = this.#live.get(id);
    if (box === undefined) throw new AirlockError('NOT_FOUND', `no sandbox ${JSON.stringify(id.slice(0, 100))} in this MCP session: make one with sandbox_create (live: ${[...this.#live.keys()].join(', ') || 'none'})`);
    return box;
  }

  async destroy(id: string): Promise<void> {
    const box = this.get(id);
    this.#live.delete(id);
    await box.destroy();
  }

  /** The session ended: every sandbox it made is destroyed (each records sandbox.destroyed). */
  async destroyAll(): Promise<void> {
    this.#closed = true;
    const boxes = [...this.#live.values()];
    this.#live.clear();
    await Promise.all(boxes.map((box) => box.destroy().catch(() => undefined)));
  }

  get size(): number {
    return this.#live.size;
  }
}
