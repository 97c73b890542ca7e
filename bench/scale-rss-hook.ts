/**
 * Loaded into each child process of bench:scale (`node --import`): when the process exits, its
 * peak resident set size (getrusage's ru_maxrss, all threads) is written in kilobytes to the
 * file named by CALITUNE_BENCH_RSS_FILE, and its CPU seconds (user + system, all threads) to that
 * name + `.cpu`: on a shared machine the CPU time is the steadier figure. Portable where
 * /usr/bin/time is not installed.
 */
import { writeFileSync } from 'node:fs';

const out = process.env.CALITUNE_BENCH_RSS_FILE;
if (out) {
  process.on('exit', () => {
    const r = process.resourceUsage();
    writeFileSync(out, String(r.maxRSS));
    writeFileSync(`${out}.cpu`, String((r.userCPUTime + r.systemCPUTime) / 1e6));
  });
}
