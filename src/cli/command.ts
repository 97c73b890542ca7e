/**
 * What every CLI command looks like. Commands are thin: parse, validate, call the modules,
 * print. Exit codes: 0 success, 1 runtime failure, 2 bad usage or bad input (UserError).
 */
import type { ParseArgsConfig } from 'node:util';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;
export type ParsedValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface CommandContext {
  /** --json: the machine-readable summary goes to stdout, human text is suppressed. */
  json: boolean;
  /** Human output (stdout); silent when --json. */
  log(line?: string): void;
  /** Warnings and notes (stderr, always). */
  warn(line: string): void;
  /** Progress on stderr (bar on a terminal, plain lines otherwise). */
  progressSilent: boolean;
}

export interface Command {
  name: string;
  summary: string;
  /** Full --help text after the usage line: options and at least one example. */
  help: string;
  usage: string;
  options: OptionSpec;
  /** Positional arguments allowed (default none). */
  positionals?: boolean;
  run(values: ParsedValues, positionals: string[], ctx: CommandContext): Promise<unknown>;
}
