import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fmtSeconds, Progress } from '../../src/util/progress.js';

test('fmtSeconds: seconds below a minute, then m/ss without a 60s overflow', () => {
  assert.equal(fmtSeconds(0.04), '0.0s');
  assert.equal(fmtSeconds(12.34), '12.3s');
  assert.equal(fmtSeconds(59.96), '1m00s');
  assert.equal(fmtSeconds(119.6), '2m00s');
  assert.equal(fmtSeconds(125), '2m05s');
});

test('plain progress lines (not a terminal): first, rate-limited, last', () => {
  const lines: string[] = [];
  const stream = {
    isTTY: false,
    write: (s: string) => {
      lines.push(s);
      return true;
    },
  } as unknown as NodeJS.WriteStream;
  const p = new Progress('work', 3, { stream, plainInterval: 3600 });
  p.update(1, 'a');
  p.update(2, 'b'); // rate-limited away
  p.update(3, 'c');
  p.done('finished');
  assert.equal(lines.length, 3);
  assert.match(lines[0]!, /^work: 1\/3 a/);
  assert.match(lines[1]!, /^work: 3\/3 c/);
  assert.equal(lines[2], 'work: finished\n');
});
