import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import semver from 'semver';
import { enginesRange, NODE_LINES, nodeSupport, RECOMMENDED_NODE_MAJOR } from '../../src/util/node-support.js';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } };
interface LockEntry {
  version?: string;
  dev?: boolean;
  engines?: { node?: string } | string[];
}
const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, LockEntry> };

describe('supported Node.js lines', () => {
  it("package.json's engines is the range the table gives", () => {
    assert.equal(pkg.engines.node, enginesRange());
    assert.equal(enginesRange(), '^20.19.0 || ^22.13.0 || ^24.0.0');
  });

  it('engines admits each line from its minimum and refuses the versions before it and odd lines', () => {
    for (const l of NODE_LINES) {
      assert.ok(semver.satisfies(l.minimum, pkg.engines.node), l.minimum);
      assert.ok(semver.satisfies(`${l.major}.99.0`, pkg.engines.node), `${l.major}.99`);
    }
    for (const v of ['18.20.0', '20.18.3', '21.7.0', '22.12.0', '23.1.0', '25.0.0']) {
      assert.ok(!semver.satisfies(v, pkg.engines.node), v);
    }
  });

  it('every installed dependency accepts the minimum of every supported line', () => {
    const bad: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      const range = entry.engines && !Array.isArray(entry.engines) ? entry.engines.node : undefined;
      if (!path || !range) continue;
      for (const l of NODE_LINES) {
        if (!semver.satisfies(l.minimum, range))
          bad.push(`${path}@${entry.version}: node ${range} refuses ${l.minimum}`);
      }
    }
    assert.deepEqual(bad, []);
  });
});

describe('nodeSupport', () => {
  const day = new Date('2026-11-30T12:00:00Z');
  it('Node 20 after 2026-04-30 is supported but past its end of life', () => {
    const s = nodeSupport('v20.20.2', day);
    assert.equal(s.major, 20);
    assert.equal(s.supported, true);
    assert.equal(s.pastEndOfLife, true);
    assert.equal(s.endOfLife, '2026-04-30');
    assert.match(s.advice, /end of life on 2026-04-30.*install Node 24 LTS/);
  });

  it('Node 20 on its end-of-life day is not yet past it; Node 24 is the recommended line', () => {
    assert.equal(nodeSupport('20.19.0', new Date('2026-04-30T23:00:00Z')).pastEndOfLife, false);
    const s = nodeSupport('24.22.3', day);
    assert.equal(s.pastEndOfLife, false);
    assert.equal(RECOMMENDED_NODE_MAJOR, 24);
    assert.match(s.advice, /supported until 2028-04-30 \(the recommended line\)/);
    assert.match(nodeSupport('22.13.0', day).advice, /supported until 2027-04-30; Node 24 is recommended/);
  });

  it('an untested line is reported as such', () => {
    const s = nodeSupport('25.1.0', day);
    assert.equal(s.supported, false);
    assert.equal(s.endOfLife, null);
    assert.match(s.advice, /not a tested line \(supported: 20, 22, 24\)/);
  });
});
