/**
 * Runs the CLI in-process with stdout and stderr captured — for tests and benchmarks that
 * chain commands without paying a Node start-up per command.
 */
import { run } from './main.js';

/** Exit code and captured output of an in-process CLI run. */
export interface CapturedRun {
  code: number;
  out: string;
  err: string;
}

/** Runs the CLI in-process on `args` and returns its exit code, stdout and stderr. */
export async function runCaptured(args: string[]): Promise<CapturedRun> {
  let out = '',
    err = '';
  const ow = process.stdout.write.bind(process.stdout),
    ew = process.stderr.write.bind(process.stderr);
  const ol = console.log,
    oe = console.error;
  process.stdout.write = ((s: string | Uint8Array) => {
    out += String(s);
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => {
    err += String(s);
    return true;
  }) as typeof process.stderr.write;
  console.log = (...a: unknown[]) => {
    out += a.join(' ') + '\n';
  };
  console.error = (...a: unknown[]) => {
    err += a.join(' ') + '\n';
  };
  try {
    return { code: await run(args), out, err };
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
    console.log = ol;
    console.error = oe;
  }
}
