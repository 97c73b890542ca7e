import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readResults, resultsExperimentNames, resultsPaths } from '../../src/store/results-files.js';
import { RESULTS_FORMAT_VERSION } from '../../src/eval/results-format.js';
import { isInputError, isUserError } from '../../src/util/errors.js';
import { cliNaming } from '../../src/cli/naming.js';
import { commands } from '../../src/cli/registry.js';

const calitune = (extra: Record<string, unknown> = {}) => ({
  format_version: RESULTS_FORMAT_VERSION,
  split: 'test',
  k: 10,
  ...extra,
});

test('readResults: current format accepted; missing, older, newer formats refused with a clear message', (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'calitune-results-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const w = (name: string, v: unknown) => {
    const p = join(tmp, name);
    writeFileSync(p, JSON.stringify(v));
    return p;
  };
  const ok = readResults(
    w('ok.json', {
      base_recommendations: { ndcg: 0.2 },
      finetuned: { epoch_3: { ndcg: 0.25, jsd: 0.1 } },
      calitune: calitune(),
    }),
  );
  assert.equal(ok.base_recommendations.ndcg, 0.2);
  assert.equal(ok.finetuned!.epoch_3!.jsd, 0.1);
  const cases: [string, unknown, RegExp][] = [
    [
      'ref.json',
      { base_recommendations: { ndcg: 0.2 }, postprocessed: {} },
      new RegExp(
        /ref\.json: an older results format \(no calitune\.format_version; /.source +
          /written by the reference implementation or an older calitune\); re-run 'evaluate'/.source,
      ),
    ],
    [
      'old.json',
      { model_type: 'bpr', valid: {}, test: {} },
      /older results format .*before evaluate wrote the reference shape/,
    ],
    [
      'v0.json',
      { base_recommendations: {}, calitune: { format_version: 0 } },
      /older results format \(format_version 0, this calitune reads 1\)/,
    ],
    [
      'v9.json',
      { base_recommendations: {}, calitune: { format_version: 9 } },
      /format_version 9 is newer than this calitune reads \(1\); upgrade calitune/,
    ],
    [
      'nobase.json',
      { calitune: calitune() },
      /nobase\.json: field base_recommendations: expected an object, got nothing/,
    ],
    [
      'base-num.json',
      { base_recommendations: 0.2, calitune: calitune() },
      /base-num\.json: field base_recommendations: expected an object, got 0\.2/,
    ],
    [
      'ft.json',
      { base_recommendations: {}, finetuned: { epoch_1: 0.3 }, calitune: calitune() },
      /ft\.json: field finetuned\.epoch_1: expected an object, got 0\.3/,
    ],
    [
      'split.json',
      { base_recommendations: {}, calitune: calitune({ split: 'train' }) },
      /split\.json: field calitune\.split: expected one of "test", "valid", got "train"/,
    ],
    [
      'k.json',
      { base_recommendations: {}, calitune: calitune({ k: '10' }) },
      /k\.json: field calitune\.k: expected a finite number, got "10"/,
    ],
    [
      'nan.json',
      { base_recommendations: { ndcg: 'NaN' }, calitune: calitune() },
      /nan\.json: field base_recommendations\.ndcg: expected a finite number, got "NaN"/,
    ],
    [
      'cp.json',
      { base_recommendations: {}, postprocessed: { '0.5': { jsd: [1] } }, calitune: calitune() },
      /cp\.json: field postprocessed\["0\.5"\]\.jsd: expected a finite number, got \[1\]/,
    ],
    ['array.json', [1, 2], /not a results object/],
  ];
  for (const [name, v, re] of cases) {
    assert.throws(
      () => readResults(w(name, v)),
      (e) => isUserError(e) && re.test((e as Error).message),
      name,
    );
  }
  assert.throws(
    () => readResults(join(tmp, 'missing.json')),
    (e) => isUserError(e) && /run 'evaluate' first/.test((e as Error).message),
  );
  // The CLI names the command to run.
  const cli = cliNaming(commands().find((c) => c.name === 'compare')!, commands());
  assert.throws(
    () => readResults(w('ref2.json', { base_recommendations: {} })),
    (e) =>
      isInputError(e) &&
      /^.*ref2\.json: an older results format .*; re-run 'calitune evaluate' to rewrite it in format 1$/.test(
        e.render(cli),
      ),
  );
  writeFileSync(join(tmp, 'bad.json'), '{');
  assert.throws(
    () => readResults(join(tmp, 'bad.json')),
    (e) => isUserError(e) && /bad\.json: not valid JSON/.test((e as Error).message),
  );
});

test("readResults: Python's NaN tokens only when asked for, counted, read as null", (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'calitune-results-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const p = join(tmp, 'nan.json');
  writeFileSync(
    p,
    '{"base_recommendations": {"ndcg": NaN, "jsd": 0.3}, "postprocessed": {"0.5": {"ndcg": Infinity}}, ' +
      '"calitune": {"format_version": 1, "split": "valid", "k": 10}}',
  );
  assert.throws(
    () => readResults(p),
    (e) => isUserError(e) && /not valid JSON/.test((e as Error).message),
  );
  const seen: number[] = [];
  const r = readResults(p, { onNonFinite: (n) => seen.push(n) });
  assert.deepEqual(seen, [2]);
  assert.equal(r.base_recommendations.ndcg, null);
  assert.equal(r.base_recommendations.jsd, 0.3);
  assert.equal(r.calitune.split, 'valid');
});

test('results paths and the experiment names found in RUN/results', (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'calitune-results-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const p = resultsPaths(tmp, 'c0.5_frozen');
  assert.equal(p.json, join(tmp, 'results', 'c0.5_frozen.json'));
  assert.equal(p.perUser, join(tmp, 'results', 'c0.5_frozen_per_user.tsv'));
  assert.deepEqual(resultsExperimentNames(tmp), [], 'no results folder');
  mkdirSync(join(tmp, 'results'));
  for (const f of [
    'c0.5_frozen.json',
    'c0.5_frozen_per_user.tsv',
    'base.json',
    'base_model.json',
    '.x.json.tmp-1-2',
    'other.json',
  ]) {
    writeFileSync(join(tmp, 'results', f), '{}');
  }
  assert.deepEqual(resultsExperimentNames(tmp).sort(), ['c0.5_frozen', 'other']);
});
