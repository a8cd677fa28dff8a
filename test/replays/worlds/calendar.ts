// A calendar: events with an organizer, attendees and a description every attendee sees.
import { a, ANN, BOB, ME, object, STR, STRS, type Kinds, type ObjectFacts, type Tool } from './people.ts';

export interface CalendarEvent {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly organizer: string;
  readonly attendees: string[];
}

export class CalendarWorld {
  readonly events = new Map<string, CalendarEvent>([['e-standup', { id: 'e-standup', title: 'standup', description: 'daily standup', organizer: ME, attendees: [ANN, BOB] }]]);
  #next = 0;

  /** Whether `who` attends an event whose title or description holds `text`. */
  sees(who: string, text: string): boolean {
    return [...this.events.values()].some((e) => e.attendees.includes(who) && `${e.title}\n${e.description}`.includes(text));
  }

  #facts(id: string): ObjectFacts | undefined {
    const e = this.events.get(id);
    return e === undefined ? undefined : { readers: [e.organizer, ...e.attendees], authors: [e.organizer] };
  }

  kinds(): Kinds {
    return { 'cal:event': { currentLabel: (id) => this.#facts(id) } };
  }

  tools(): Record<string, Tool> {
    return {
      'calendar.list': {
        handler: () => ({ events: [...this.events.values()] }),
        operation: 'read',
        args: object({}),
        labels: { reveals: [{ kind: 'cal:event', at: 'events[]', id: 'id', readers: ['organizer', 'attendees[]'], authors: ['organizer'] }] },
      },
      'calendar.create': {
        handler: (args) => {
          const { title, description, attendees } = a(args) as { title: string; description: string; attendees: string[] };
          const id = `e-new-${++this.#next}`;
          this.events.set(id, { id, title, description, organizer: ME, attendees: [...attendees] });
          return { id };
        },
        operation: 'book',
        resources: ['cal:attendee/{attendees[]}'],
        args: object({ title: STR, description: STR, attendees: STRS }),
        labels: { reveals: [], sink: { audience: [{ from: 'argument', path: 'attendees[]' }], control: ['attendees[]'], stores: { kind: 'cal:event', id: { result: 'id' }, mode: 'new' } } },
      },
      'calendar.invite': {
        handler: (args) => {
          const { eventId, attendees } = a(args) as { eventId: string; attendees: string[] };
          const e = this.events.get(eventId);
          if (e !== undefined) e.attendees.push(...attendees);
          return { ok: e !== undefined };
        },
        operation: 'book',
        resources: ['cal:event/{eventId}', 'cal:attendee/{attendees[]}'],
        args: object({ eventId: STR, attendees: STRS }),
        // A new attendee sees the event's description: the event is carried to them.
        labels: { reveals: [], sink: { audience: [{ from: 'argument', path: 'attendees[]' }], carries: [{ kind: 'cal:event', id: 'eventId' }], control: ['attendees[]'] } },
      },
    };
  }
}
