/**
 * The README's library example: examples/library.ts, compiled to dist/examples/library.js, runs in a
 * child process against the package's own "exports" (it imports 'calitune') and prints sensible test
 * metrics; and the README shows exactly that file, so the two never drift apart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const source = join(root, 'examples', 'library.ts');
const compiled = join(root, 'dist', 'examples', 'library.js');

/** The two numbers of a line `… test NDCG@10 x  JSD@10 y`. */
function metrics(out: string, label: string): { ndcg: number; jsd: number } {
  const line = out.split('\n').find((l) => l.startsWith(label));
  assert.ok(line, `no line starting with '${label}' in:\n${out}`);
  const m = /test NDCG@10 (\d\.\d{4}) {2}JSD@10 (\d\.\d{4})$/.exec(line);
  assert.ok(m, `unexpected line: ${line}`);
  return { ndcg: Number(m[1]), jsd: Number(m[2]) };
}

test('the library example runs and prints test metrics of the backbone, CaliTune and the verdict vs CP', () => {
  const r = spawnSync(process.execPath, [compiled], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `exit ${r.status}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  const base = metrics(r.stdout, 'backbone (BPR)');
  const tuned = metrics(r.stdout, 'CaliTune e');
  // The backbone is far above random lists (test NDCG@10 0.022 on this data); JSD@10 lies in [0, 1].
  assert.ok(base.ndcg > 0.2 && base.ndcg <= 1, `backbone NDCG@10 ${base.ndcg}`);
  assert.ok(base.jsd > 0 && base.jsd < 1, `backbone JSD@10 ${base.jsd}`);
  assert.ok(tuned.ndcg > 0.2 && tuned.ndcg <= 1, `CaliTune NDCG@10 ${tuned.ndcg}`);
  // The point of fine-tuning: the selected epoch's lists are better calibrated than the backbone's.
  assert.ok(tuned.jsd < base.jsd, `CaliTune JSD@10 ${tuned.jsd} not below the backbone's ${base.jsd}`);
  assert.match(r.stdout, /^vs CP at equal JSD@10: (ahead|level|behind) \(CP \d\.\d{4}, Δ -?\d\.\d{4}\)$/m);
});

test("the README's library example is examples/library.ts, verbatim", () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.indexOf('\n## Use as a library\n');
  assert.ok(section >= 0, "README has no 'Use as a library' section");
  const start = readme.indexOf('```ts\n', section);
  const end = readme.indexOf('\n```\n', start);
  assert.ok(start >= 0 && end > start, 'no ```ts block in the section');
  const shown = readme.slice(start + '```ts\n'.length, end + 1);
  assert.equal(shown, readFileSync(source, 'utf8'));
});
