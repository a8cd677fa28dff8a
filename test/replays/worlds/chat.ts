// Chat channels: members and a history that a new member gets to read. #eng is the team's;
// #random has EVE as an outside guest.
import { a, ANN, BOB, EVE, ME, object, STR, type Kinds, type ObjectFacts, type Tool } from './people.ts';

export interface Channel {
  readonly name: string;
  readonly members: string[];
  readonly messages: { readonly from: string; readonly text: string }[];
}

export class ChatWorld {
  readonly channels = new Map<string, Channel>([
    ['eng', { name: 'eng', members: [ME, ANN, BOB], messages: [{ from: ANN, text: 'deploy at 5' }] }],
    ['random', { name: 'random', members: [ME, ANN, EVE], messages: [{ from: EVE, text: 'hi all' }] }],
  ]);

  /** Whether `who` is a member of a channel whose history holds `text`. */
  sees(who: string, text: string): boolean {
    return [...this.channels.values()].some((c) => c.members.includes(who) && c.messages.some((m) => m.text.includes(text)));
  }

  #facts(name: string): ObjectFacts | undefined {
    const c = this.channels.get(name);
    return c === undefined ? undefined : { readers: [...c.members], authors: c.messages.map((m) => m.from) };
  }

  kinds(): Kinds {
    return { 'chat:channel': { currentLabel: (id) => this.#facts(id) } };
  }

  tools(): Record<string, Tool> {
    const channel = (args: unknown): Channel | undefined => this.channels.get(String(a(args).channel));
    return {
      'chat.read': {
        handler: (args) => {
          const c = channel(args);
          return c === undefined ? null : { channel: c.name, members: c.members, messages: c.messages };
        },
        operation: 'read',
        resources: ['chat:channel/{channel}'],
        args: object({ channel: STR }),
        labels: { reveals: [{ kind: 'chat:channel', id: 'channel', readers: ['members[]'], authors: ['messages[].from'] }] },
      },
      'chat.post': {
        handler: (args) => {
          const c = channel(args);
          c?.messages.push({ from: ME, text: String(a(args).text) });
          return { ok: c !== undefined };
        },
        operation: 'send',
        resources: ['chat:channel/{channel}'],
        args: object({ channel: STR, text: STR }),
        // Posted to the channel's members now; kept in its history with the content's label.
        labels: { reveals: [], sink: { audience: [{ from: 'readers', kind: 'chat:channel', id: 'channel' }], control: ['channel'], stores: { kind: 'chat:channel', id: { argument: 'channel' }, mode: 'join' } } },
      },
      'chat.invite': {
        handler: (args) => {
          const c = channel(args);
          const user = String(a(args).user);
          if (c !== undefined && !c.members.includes(user)) c.members.push(user);
          return { ok: c !== undefined };
        },
        operation: 'admin',
        resources: ['chat:channel/{channel}', 'chat:member/{user}'],
        args: object({ channel: STR, user: STR }),
        // The new member reads the whole history: the channel is carried to them.
        labels: { reveals: [], sink: { audience: [{ from: 'argument', path: 'user' }], carries: [{ kind: 'chat:channel', id: 'channel' }], control: ['channel', 'user'] } },
      },
    };
  }
}
