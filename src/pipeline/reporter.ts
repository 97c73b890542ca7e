/**
 * How a use-case tells its caller what is going on: log lines, warnings and progress of long
 * work. The pipeline never writes to the console itself; the CLI passes a console reporter,
 * a library caller whatever suits it (silentReporter by default).
 */
import { Progress } from '../util/progress.js';

/** Progress of one long task, from {@link Reporter.progress}. */
export interface ProgressHandle {
  /** Position `done` of the total, with an optional status text. */
  update(done: number, text?: string): void;
  /** Ends the progress, with an optional closing message. */
  done(message?: string): void;
}

/** Where a use-case sends log lines, warnings and progress; the pipeline never writes to the console itself. */
export interface Reporter {
  /** A log line for a person (what is being done, where results went). */
  info(line?: string): void;
  /** A warning or note. */
  warn(line: string): void;
  /** Progress of `total` steps of long work. */
  progress(label: string, total: number): ProgressHandle;
}

const NO_PROGRESS: ProgressHandle = { update: () => {}, done: () => {} };

/** Says nothing. */
export const silentReporter: Reporter = {
  info: () => {},
  warn: () => {},
  progress: () => NO_PROGRESS,
};

/** Which output {@link consoleReporter} writes. */
export interface ConsoleReporterOptions {
  /** Log lines on stdout (default true; the CLI turns them off for --json). */
  info?: boolean;
  /** Progress on stderr (default true). */
  progress?: boolean;
}

/** Log lines on stdout; warnings and progress (src/util/progress.ts) on stderr. */
export function consoleReporter(opts: ConsoleReporterOptions = {}): Reporter {
  const info = opts.info ?? true;
  const progress = opts.progress ?? true;
  return {
    info: (line = '') => {
      if (info) process.stdout.write(line + '\n');
    },
    warn: (line) => {
      process.stderr.write(line + '\n');
    },
    progress: (label, total) => (progress ? new Progress(label, total) : NO_PROGRESS),
  };
}

/** The same reporter with every log line indented (a step inside a larger one); no progress. */
export function nestedReporter(parent: Reporter, indent = '  '): Reporter {
  return {
    info: (line = '') => parent.info(`${indent}${line}`),
    warn: (line) => parent.warn(line),
    progress: () => NO_PROGRESS,
  };
}
