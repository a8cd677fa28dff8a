// The hijacked-agent replay suite (issue 18 item 4): every case through airlock's public API on the
// isolate tier, scored on the worlds' effects afterwards. Asserts: every benign task completes; no
// blockable attack succeeds; each known hole and each unblockable attack is still what it says
// (so fixing a hole fails here until the case is marked blockable). Prints the table.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateSigningKey } from '../../src/authority/keys.ts';
import { createAirlock, type Airlock } from '../../src/index.ts';
import { program } from './case.ts';
import { CASES } from './cases/index.ts';
import { probeSubruns, replay, table, verdict, type Outcome } from './replay.ts';
import { Office } from './worlds/office.ts';
import { ANN, BOB, DAVE, ME, ME_IBAN } from './worlds/people.ts';
import { Site } from './worlds/site.ts';

const root = generateSigningKey();

function airlockFor(office: Office, labelled: 'labels' | 'no-labels'): Airlock {
  const tools = office.tools();
  return createAirlock({
    home: mkdtempSync(join(tmpdir(), 'airlock-replays-')),
    tools: labelled === 'labels' ? tools : Object.fromEntries(Object.entries(tools).map(([n, t]) => [n, { handler: t.handler, operation: t.operation }])),
    warrants: { trustedKeys: new Map([[root.kid, root.publicKey]]) },
    // The user is me (address and account); the host trusts its own people as authors.
    ...(labelled === 'labels' ? { labels: { principals: () => ({ user: [ME, ME_IBAN], trusted: [ANN, BOB, DAVE] }), kinds: office.kinds() } } : {}),
    isolate: { workersPerTenant: 1 },
  });
}

const explain = (o: Outcome): string => `${o.id}: ${verdict(o)}; denials ${o.denials.join(',') || 'none'}; runs ${JSON.stringify(o.runs)}`;

test('hijacked-agent replays: every benign task completes, no blockable attack succeeds', async (t) => {
  const site = await Site.start();
  t.after(() => site.close());
  const office = new Office(site);
  await using airlock = airlockFor(office, 'labels');
  const subruns = await probeSubruns(airlock, office, 'replay-probe');
  const outcomes: Outcome[] = [];
  for (const [i, c] of CASES.entries()) outcomes.push(await replay({ airlock, office, signer: root, subruns }, c, `replay-${i}`));
  const count = (kind: string, expect?: string): number => outcomes.filter((o) => o.kind === kind && (expect === undefined ? o.effect !== null : o.expect === expect)).length;
  const benignDone = outcomes.filter((o) => o.kind === 'benign' && o.effect === true).length;
  const blockable = outcomes.filter((o) => o.expect === 'blockable');
  const blockableWon = blockable.filter((o) => o.effect === true).length;
  process.stdout.write(
    `\n${table(outcomes)}\n\nbenign: ${benignDone}/${count('benign')} completed\n` +
      `attacks: ${blockableWon}/${blockable.length} blockable succeeded; known holes ${count('attack', 'known-hole')} (succeeded: ${outcomes.filter((o) => o.expect === 'known-hole' && o.effect === true).length}); ` +
      `unblockable by design ${count('attack', 'unblockable')}; not yet expressible ${count('attack', 'not-expressible')} attacks, ${count('benign', 'not-expressible')} benign\n\n`,
  );
  for (const o of outcomes) {
    if (o.effect === null) continue;
    if (o.kind === 'benign') assert.equal(o.effect, true, `benign task not completed: ${explain(o)}`);
    else if (o.expect === 'blockable') assert.equal(o.effect, false, `blockable attack succeeded: ${explain(o)}`);
    else if (o.expect === 'known-hole') assert.equal(o.effect, true, `known hole no longer succeeds (fixed? mark the case blockable): ${explain(o)}`);
    else if (o.expect === 'unblockable') assert.equal(o.effect, true, `the unblockable attack did not happen (the case is wrong): ${explain(o)}`);
  }
  // A blocked attack was stopped by a coded denial, not by a broken program.
  for (const o of blockable) assert.ok(o.denials.some((d) => /^(LABEL_|WARRANT_)/.test(d)), `no label or warrant denial recorded: ${explain(o)}`);
  if (!subruns) process.stdout.write('this airlock gives the guest no subrun/unwrap: the sub-run and handle cases were not run\n');
});

test('control: without label declarations and warrants, every blockable attack and known hole happens, as scored by the same effects', async (t) => {
  const site = await Site.start();
  t.after(() => site.close());
  const office = new Office(site);
  await using airlock = airlockFor(office, 'no-labels');
  const subruns = await probeSubruns(airlock, office, 'bare');
  const attacks = CASES.filter((c) => c.kind === 'attack' && (c.expect === undefined || c.expect === 'known-hole') && (c.needs !== 'subrun' || subruns));
  // No labels are kept here, so the cases can share one tenant (and its worker).
  for (const c of attacks) {
    const o = await replay({ airlock, office, signer: null, subruns }, c, 'bare');
    assert.equal(o.effect, true, `the attack's effect is not reached even unguarded (the case or its effect check is wrong): ${explain(o)}`);
  }
  assert.ok(attacks.length >= 20, `${attacks.length} attacks`);
  // The program shape itself reports a denial as the run's result (what the table's codes rest on).
  const denied = await airlock.run({ tenant: 'bare', code: program("await tools.nope.call({})"), policy: office.policy() });
  assert.equal(denied.result, 'TOOL_NOT_GRANTED');
});
