/**
 * What every CLI command looks like. Commands are thin: parse the flags, map them onto the
 * pipeline's options, call the pipeline, print. Exit codes: 0 success, 1 runtime failure,
 * 2 bad usage or bad input (UserError).
 */
import type { ParseArgsConfig } from 'node:util';
import type { Reporter } from '../pipeline/reporter.js';

/** The flags a command declares, in node:util parseArgs form. */
export type OptionSpec = NonNullable<ParseArgsConfig['options']>;
/** The flag values parseArgs produced, by flag name. */
export type ParsedValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

/**
 * The pipeline's Reporter on the console: info lines on stdout (silent with --json), warnings
 * on stderr, progress on stderr (off when CALITUNE_QUIET=1).
 */
export interface CommandContext extends Reporter {
  /** --json: the machine-readable summary goes to stdout, human text is suppressed. */
  readonly json: boolean;
  /** Whether live progress is shown (off when CALITUNE_QUIET=1). */
  readonly showProgress: boolean;
}

/** One CLI command: name, help texts, flags, and how it runs. */
export interface Command {
  name: string;
  summary: string;
  /** Full --help text after the usage line: options and at least one example. */
  help: string;
  usage: string;
  options: OptionSpec;
  /**
   * The flag of each pipeline option whose flag is not its name in kebab-case
   * (e.g. experiment → name): how error messages naming an option show it.
   */
  optionFlags?: Readonly<Record<string, string>>;
  /** Positional arguments allowed (default none). */
  positionals?: boolean;
  run(values: ParsedValues, positionals: string[], ctx: CommandContext): Promise<unknown>;
}
