// Tool label declarations: refused at registration when malformed (unknown keys, bad paths,
// prototype names, markers in the wrong place, kinds without a lookup), and paths into returned
// data that are bounded and never run a getter or reach a prototype.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileToolLabels, LabelRegistry, revealLabel, runPrincipals } from '../../../src/authority/labels/index.ts';
import { extract, MAX_VALUES, parsePath } from '../../../src/authority/labels/path.ts';
import { describeSinkCall } from '../../../src/authority/labels/sink.ts';
import { ME } from './world.ts';

const READ = { reveals: [{ kind: 'mail:thread', id: 'id', readers: ['messages[].to[]'], authors: ['messages[].from'] }] };
const who = runPrincipals({ user: [ME], trusted: ['ann'] });

test('a well-formed declaration compiles; each malformed one is refused with the field named', () => {
  assert.equal(compileToolLabels('mail.read', READ).reveals?.length, 1);
  const bad: [unknown, RegExp][] = [
    [{ ...READ, extra: true }, /labels: Unrecognized key/],
    [{ reveals: [{ ...READ.reveals[0], sneaky: 1 }] }, /labels\.reveals\.0: Unrecognized key/],
    [{ reveals: [{ ...READ.reveals[0], id: '__proto__.x' }] }, /"__proto__" can't be named/],
    [{ reveals: [{ ...READ.reveals[0], readers: ['constructor'] }] }, /"constructor" can't be named/],
    [{ reveals: [{ ...READ.reveals[0], readers: ['$external'] }] }, /markers for readers/],
    [{ reveals: [{ ...READ.reveals[0], authors: ['$public'] }] }, /markers for authors/],
    [{ reveals: [{ ...READ.reveals[0], kind: 'mail/thread' }] }, /no \//],
    [{ reveals: [{ ...READ.reveals[0], readers: ['shared{}.x'] }] }, /can only end a path/],
    [{ sink: { audience: [{ from: 'template', template: 'chan:{a{}}' }] } }, /template|placeholder/],
    [{ sink: { audience: [{ from: 'nowhere' }] } }, /labels\.sink\.audience\.0/],
    [{ sink: { audience: [], stores: { kind: 'x', id: { argument: 'id' }, mode: 'append' } } }, /labels\.sink\.stores\.mode/],
  ];
  for (const [declaration, message] of bad) {
    assert.throws(() => compileToolLabels('t', declaration), (e: Error & { code?: string }) => e.code === 'INVALID_REQUEST' && message.test(e.message), JSON.stringify(declaration));
  }
});

test('the registry refuses a sink whose carried or audience kind has no currentLabel lookup', () => {
  const sink = { reveals: [], sink: { audience: [{ from: 'readers', kind: 'chat:channel', id: 'channel' }], carries: [{ kind: 'mail:thread', id: 'threadId' }] } };
  assert.throws(() => new LabelRegistry({ tools: { post: sink } }), /kind "chat:channel" has no currentLabel lookup.*kind "mail:thread" has no currentLabel lookup|kind "mail:thread".*kind "chat:channel"/);
  const lookup = { currentLabel: () => undefined };
  assert.ok(new LabelRegistry({ tools: { post: sink }, kinds: { 'chat:channel': lookup, 'mail:thread': lookup } }).tool('post'));
  assert.throws(() => new LabelRegistry({ tools: {}, kinds: { 'chat:channel': {} as never } }), /give it currentLabel/);
});

test('paths read own data properties only: no getter runs, no prototype is reached', () => {
  let ran = 0;
  const data = Object.create({ inherited: 'proto@x' }) as Record<string, unknown>;
  Object.defineProperty(data, 'to', { enumerable: true, get: () => { ran++; return ['eve']; } });
  const got = extract(parsePath('to[]'), data);
  assert.equal(ran, 0);
  assert.deepEqual(got.values, []);
  assert.equal(got.malformed, true);
  assert.deepEqual(extract(parsePath('inherited'), data).values, []);
  // A JSON `__proto__` key is an own key like any other, read as data, never as a prototype.
  const parsed = JSON.parse('{"shared": {"__proto__": "x", "ann": "read"}}') as unknown;
  assert.deepEqual(extract(parsePath('shared{}'), parsed).values, ['__proto__', 'ann']);
  assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'ann'), false);
});

test('paths are bounded: past MAX_VALUES the answer is malformed, and a label stays restrictive', () => {
  const many = { to: Array.from({ length: MAX_VALUES + 5 }, (_, i) => `p${i}`) };
  const got = extract(parsePath('to[]'), many);
  assert.equal(got.values.length, MAX_VALUES);
  assert.equal(got.malformed, true);
  // A sink whose audience can't be read in full has everyone in its audience.
  const send = compileToolLabels('send', { reveals: [], sink: { audience: [{ from: 'argument', path: 'to[]' }] } });
  assert.ok(describeSinkCall(send.sink!, many).principals.includes('*'));
  // A result whose authors can't be read in full is untrusted.
  const read = compileToolLabels('read', READ);
  const thread = { id: 't', messages: Array.from({ length: MAX_VALUES + 1 }, () => ({ from: 'ann', to: ['ann'] })) };
  assert.equal(revealLabel(read, thread, who).get('mail:thread/t')?.integrity, 'untrusted');
  assert.equal(revealLabel(read, { id: 't', messages: [{ from: 'ann', to: ['ann'] }] }, who).get('mail:thread/t')?.integrity, 'trusted');
});

test('reveal: authors decide integrity; a missing author, an unknown one or $external makes it untrusted', () => {
  const read = compileToolLabels('read', READ);
  const label = (messages: unknown[]) => revealLabel(read, { id: 't', messages }, who).get('mail:thread/t');
  assert.equal(label([{ from: ME, to: ['ann'] }, { from: 'ann', to: [ME] }])?.integrity, 'trusted');
  assert.equal(label([{ from: 'eve', to: [ME] }])?.integrity, 'untrusted');
  assert.equal(label([{ to: [ME] }])?.integrity, 'untrusted');
  assert.equal(label([])?.integrity, 'untrusted');
  // Readers from data never make a URL a reader: web: principals are airlock's own.
  assert.deepEqual(label([{ from: 'ann', to: ['web:evil.example/collect', 'bob'] }])?.readers, new Set(['bob']));
  // Readers from data never become everyone: a participant literally named "*" is dropped.
  assert.deepEqual(label([{ from: 'ann', to: ['*', 'bob'] }])?.readers, new Set(['bob']));
  // An object without a readable id is labelled unknown (user-only, untrusted), never dropped.
  const noId = revealLabel(read, { messages: [] }, who);
  assert.deepEqual(noId.toJSON(), [{ source: 'unlabelled:read', readers: [], integrity: 'untrusted' }]);
  const web = compileToolLabels('web', { reveals: [{ kind: 'web:page', id: 'url', readers: ['$public'], authors: ['$external'] }] });
  assert.deepEqual(revealLabel(web, { url: 'https://a.example/' }, who).toJSON(), [{ source: 'web:page/https://a.example/', readers: '*', integrity: 'untrusted' }]);
});

test('sink audiences: URL arguments are web:<host><path>; templates expand; constants stay', () => {
  const post = compileToolLabels('post', {
    reveals: [],
    sink: {
      audience: [{ from: 'url', path: 'url' }, { from: 'template', template: 'chat:{team}/{channels[]}' }, { from: 'principals', principals: ['auditor'] }],
      control: ['url'],
    },
  });
  const facts = describeSinkCall(post.sink!, { url: 'https://Evil.Example:8443/x/y?q=secret#f', team: 'eng', channels: ['a', 'b'] });
  assert.deepEqual(facts.principals, ['web:evil.example:8443/x/y', 'chat:eng/a', 'chat:eng/b', 'auditor']);
  assert.deepEqual(describeSinkCall(post.sink!, { url: 'file:///etc/passwd', team: 'eng', channels: [] }).principals, ['*', 'auditor']);
  assert.deepEqual(describeSinkCall(post.sink!, { url: 'not a url', team: 'eng', channels: 'a' }).principals, ['*', '*', 'auditor']);
  // A value can't forge the template's separators.
  assert.deepEqual(describeSinkCall(post.sink!, { url: 'https://a.example/', team: 'eng/x', channels: ['y'] }).principals.slice(1, 2), ['chat:eng%2Fx/y']);
});
