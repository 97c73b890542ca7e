// Runs every compiled test file (dist/test/**/*.test.js) with Node's test runner.
// Long end-to-end tests are named *.e2e.test.js; CALITUNE_SKIP_E2E=1 leaves them out locally.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = 'dist/test';
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.js')) {
      if (process.env.CALITUNE_SKIP_E2E === '1' && name.endsWith('.e2e.test.js')) continue;
      files.push(p);
    }
  }
})(root);
const filter = process.argv.slice(2);
const chosen = filter.length ? files.filter((f) => filter.some((s) => f.includes(s))) : files;
const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...chosen], { stdio: 'inherit' });
process.exit(r.status ?? 1);
