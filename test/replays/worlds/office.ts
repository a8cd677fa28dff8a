// All the worlds of one case, and the one set of tools an airlock is made with: each tool's handler
// and kind lookup delegate to the worlds of the case being replayed, so one airlock serves every
// case while each case starts from fresh state (`reset`).
import type { PolicyDocument } from '../../../src/index.ts';
import { BankWorld } from './bank.ts';
import { CalendarWorld } from './calendar.ts';
import { ChatWorld } from './chat.ts';
import { DriveWorld } from './drive.ts';
import { MailWorld } from './mail.ts';
import type { Kinds, Tool } from './people.ts';
import type { Site } from './site.ts';
import { WebWorld } from './web.ts';

export class Worlds {
  readonly mail = new MailWorld();
  readonly drive = new DriveWorld();
  readonly calendar = new CalendarWorld();
  readonly chat = new ChatWorld();
  readonly bank = new BankWorld();
  readonly web = new WebWorld();
  readonly site: Site;

  constructor(site: Site) {
    this.site = site;
  }

  all(): readonly { tools(): Record<string, Tool>; kinds(): Kinds }[] {
    return [this.mail, this.drive, this.calendar, this.chat, this.bank, this.web];
  }
}

export class Office {
  readonly site: Site;
  #now: Worlds;
  #tools: Record<string, Tool>;
  #kinds: Kinds;

  constructor(site: Site) {
    this.site = site;
    this.#now = new Worlds(site);
    this.#tools = Object.assign({}, ...this.#now.all().map((w) => w.tools())) as Record<string, Tool>;
    this.#kinds = Object.assign({}, ...this.#now.all().map((w) => w.kinds())) as Kinds;
  }

  get now(): Worlds {
    return this.#now;
  }

  /** Fresh worlds for the next case (the site's request log too). */
  reset(): Worlds {
    this.#now = new Worlds(this.site);
    this.#tools = Object.assign({}, ...this.#now.all().map((w) => w.tools())) as Record<string, Tool>;
    this.#kinds = Object.assign({}, ...this.#now.all().map((w) => w.kinds())) as Kinds;
    this.site.requests.length = 0;
    return this.#now;
  }

  /** For createAirlock({ tools }): the declarations, with handlers that reach the current worlds. */
  tools(): Record<string, { handler: (args: unknown) => unknown; operation: string; resources?: readonly string[]; labels: unknown }> {
    return Object.fromEntries(
      Object.entries(this.#tools).map(([name, t]) => [
        name,
        { handler: (args: unknown) => this.#tools[name]?.handler(args), operation: t.operation, ...(t.resources === undefined ? {} : { resources: t.resources }), labels: t.labels },
      ]),
    );
  }

  /** For createAirlock({ labels: { kinds } }): lookups into the current worlds. */
  kinds(): Kinds {
    return Object.fromEntries(Object.keys(this.#kinds).map((kind) => [kind, { currentLabel: (id: string) => this.#kinds[kind]?.currentLabel(id) }]));
  }

  /** The policy every task gets (AgentDojo gives an agent all of a suite's tools): each tool, strict arguments, the site's route. */
  policy(): PolicyDocument {
    return {
      version: 1,
      tools: Object.fromEntries(Object.entries(this.#tools).map(([name, t]) => [name, { operation: t.operation, args: t.args }])),
      network: { routes: [{ host: '127.0.0.1', scheme: 'http', port: this.site.port }] },
    };
  }
}
