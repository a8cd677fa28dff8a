// Information-flow label figures (issue 18), with a baseline measured in the same run:
//   label_check_p50_us          one sink check (checkSink) over a content label of 20 atoms — the
//                               run's label, a handle and a carried object — 3 audience principals,
//                               2 control arguments, a two-level warrant (declassify, endorse);
//                               allowed, so every atom meets every principal
//   label_check_denied_p50_us   the same call to an outsider: denied, message and atoms built
//   label_check_empty_p50_us    baseline: the same check over an empty label
//   label_reveal_p50_us         labelling a 20-message thread result from its declaration
//   label_tool_result_p50_us    the read side of a tool call as the bridge does it: reveal, then
//                               join what the label store (SQLite in memory, 1,000 stored objects)
//                               keeps for that source
// Each sample is the mean of a batch of calls (a single check is below the timer's resolution);
// the figure is the median of the batches. Run alone: node bench/labels.ts
import { checkSink, compileFlowRules, compileToolLabels, Label, LabelRegistry, LabelStore, labelToolResult, revealLabel, runPrincipals, type Atom, type SinkCheck } from '../src/authority/labels/index.ts';
import { median, round } from './stats.ts';

const BATCHES = 200;
const PER_BATCH = 200;

function time(fn: () => unknown): number {
  for (let i = 0; i < PER_BATCH * 5; i++) fn(); // warm
  const samples: number[] = [];
  for (let b = 0; b < BATCHES; b++) {
    const t = performance.now();
    for (let i = 0; i < PER_BATCH; i++) fn();
    samples.push(((performance.now() - t) * 1000) / PER_BATCH);
  }
  return round(median(samples), 2);
}

export async function benchLabels(): Promise<Record<string, number>> {
  await Promise.resolve();
  const members = ['ann@corp.example', 'bob@corp.example', 'cat@corp.example', 'dan@corp.example'];
  const atom = (i: number): Atom => ({ source: `mail:thread/t${i}`, readers: new Set([...members, `extra${i}@corp.example`]), integrity: i % 7 === 0 ? 'untrusted' : 'trusted' });
  const run = Label.of(Array.from({ length: 18 }, (_, i) => atom(i)));
  const handle = Label.of([atom(18)]);
  const carried = Label.of([{ source: 'drive:file/f1', readers: '*', integrity: 'trusted' }]);
  const who = runPrincipals({ user: ['me@corp.example'], trusted: members });
  const rules = compileFlowRules([
    { declassify: [{ from: ['mail:thread/*'], to: ['*@partner.example'] }], endorse: [{ tool: 'mail.send', argument: 'to', values: members }] },
    { endorse: [{ tool: 'mail.*', argument: 'to', values: [...members, 'x'] }] },
  ]);
  const check: SinkCheck = {
    tool: 'mail.send',
    run,
    handles: [{ argument: 'body', label: handle }],
    carried,
    audience: members.slice(0, 3),
    controls: [{ argument: 'to', values: members.slice(0, 3), malformed: false }, { argument: 'subject', values: [], malformed: false }],
    who,
    rules,
  };
  if (contentSize(check) !== 20 || !checkSink(check).allow) throw new Error('bench: the allowed case is not allowed over 20 atoms');
  const outsider: SinkCheck = { ...check, audience: ['eve@evil.example'] };
  if (checkSink(outsider).allow) throw new Error('bench: the outsider case is allowed');
  const empty: SinkCheck = { ...check, run: Label.empty(), handles: [], carried: Label.empty() };

  const readDeclaration = { reveals: [{ kind: 'mail:thread', id: 'id', readers: ['messages[].from', 'messages[].to[]'], authors: ['messages[].from'] }] };
  const read = compileToolLabels('mail.read', readDeclaration);
  const thread = { id: 't1', messages: Array.from({ length: 20 }, (_, i) => ({ from: members[i % 4], to: members, body: 'x'.repeat(200) })) };

  using store = new LabelStore(':memory:');
  for (let i = 0; i < 1000; i++) store.write('bench', `drive:file/${i}`, Label.of([atom(i)]), 'replace');
  const registry = new LabelRegistry({ tools: { 'mail.read': readDeclaration } });
  const readInput = { registry, store, tenant: 'bench', tool: 'mail.read', result: thread, who };

  return {
    label_check_p50_us: time(() => checkSink(check)),
    label_check_denied_p50_us: time(() => checkSink(outsider)),
    label_check_empty_p50_us: time(() => checkSink(empty)),
    label_reveal_p50_us: time(() => revealLabel(read, thread, who)),
    label_tool_result_p50_us: time(() => labelToolResult(readInput)),
  };
}

function contentSize(check: SinkCheck): number {
  return check.run.join(check.carried).join(check.handles[0]?.label ?? Label.empty()).size;
}

if (import.meta.main) process.stdout.write(`${JSON.stringify(await benchLabels())}\n`);
