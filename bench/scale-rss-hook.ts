/**
 * Loaded into each child process of bench:scale (`node --import`): when the process exits, its
 * peak resident set size (getrusage's ru_maxrss, all threads) is written in kilobytes to the
 * file named by CALITUNE_BENCH_RSS_FILE. Portable where /usr/bin/time is not installed.
 */
import { writeFileSync } from 'node:fs';

const out = process.env.CALITUNE_BENCH_RSS_FILE;
if (out) {
  process.on('exit', () => {
    writeFileSync(out, String(process.resourceUsage().maxRSS));
  });
}
