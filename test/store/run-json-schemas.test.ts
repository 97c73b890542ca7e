import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { randomSplit } from '../../src/data/split.js';
import { createRun, readRunInfo, runPaths } from '../../src/store/run.js';
import { readBaseModelResults, writeBaseEvaluation } from '../../src/store/base-files.js';
import { evaluateBase } from '../../src/eval/base-eval.js';
import { BprModel } from '../../src/models/bpr.js';
import { UserError } from '../../src/util/errors.js';

/** A fresh tiny run with its base results. */
function withRun(f: (run: string) => void): void {
  const tmp = mkdtempSync(join(tmpdir(), 'calitune-runjson-'));
  try {
    const run = join(tmp, 'run');
    const ds = randomSplit(generateSynthetic({ users: 40, items: 30, interactions: 600, seed: 2 }), 1);
    createRun(run, ds, { kind: 'synthetic' }, 1);
    const model = new BprModel({ nUsers: ds.nUsers, nItems: ds.nItems, dim: 4 }, 1);
    writeBaseEvaluation(run, evaluateBase(model, ds), 'bpr');
    f(run);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The parts of run.json and base_model.json the test edits. */
type Editable = { sizes: Record<string, unknown>; test: Record<string, unknown>; fingerprint: unknown };

function edit(path: string, change: (v: Editable) => void): void {
  const v = JSON.parse(readFileSync(path, 'utf8')) as Editable;
  change(v);
  writeFileSync(path, JSON.stringify(v));
}

const refused = (f: () => unknown, file: string, message: RegExp) =>
  assert.throws(f, (e: unknown) => e instanceof UserError && e.message.includes(file) && message.test(e.message));

test('run.json and base_model.json are read through their schemas: a bad field is named with its file', () => {
  withRun((run) => {
    const info = runPaths(run).info;
    assert.equal(readRunInfo(run).sizes.users, 40);
    edit(info, (v) => {
      v.sizes.users = 'forty';
    });
    refused(() => readRunInfo(run), 'run.json', /field sizes\.users: expected .*got "forty"/);
    edit(info, (v) => {
      v.sizes.users = 40;
      v.fingerprint = 'abc';
    });
    refused(() => readRunInfo(run), 'run.json', /field fingerprint: /);

    const base = runPaths(run).baseResults;
    assert.ok(Number.isFinite((readBaseModelResults(run)!.test as { ndcg: number }).ndcg));
    edit(base, (v) => {
      v.test.ndcg = 'NaN';
    });
    refused(
      () => readBaseModelResults(run),
      'base_model.json',
      /field test\.ndcg: expected a finite number, got "NaN"/,
    );
  });
});
