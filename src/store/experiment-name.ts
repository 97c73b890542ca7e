/**
 * The one rule for experiment names. A name becomes a folder (RUN/experiments/NAME), two
 * results files (RUN/results/NAME.json, NAME_per_user.tsv) and a grid config file, so it may
 * only use letters, digits, '.', '_' and '-', must not start with '.' (hidden; '.' and '..'
 * are no folder of their own, and the run's unfinished writes are '.'-files), and must not
 * collide with the run's own results files. Everything else a name becomes is in a folder of
 * its own (experiments/, grid/configs/, .locks/experiment.NAME.lock), so the run's results
 * files are the only names the layout reserves. They are compared without regard to case: on a
 * case-insensitive file system 'Base_Model' is results/base_model.json.
 */
import { UserError } from '../util/errors.js';

/** Longest experiment name accepted, in characters. */
export const MAX_EXPERIMENT_NAME_LENGTH = 200;

/** The characters a name may use (a regular expression character class). */
const NAME_CHARS = 'A-Za-z0-9._-';
const ONLY_NAME_CHARS = new RegExp(`^[${NAME_CHARS}]+$`);
const NOT_A_NAME_CHAR = new RegExp(`[^${NAME_CHARS}]`, 'g');

/** Names whose results files the run itself writes (lower case), and why. */
const RESERVED: ReadonlyMap<string, string> = new Map([
  ['base', 'results/base.json is what evaluate writes without an experiment'],
  ['base_model', "results/base_model.json holds the backbone's metrics and would be overwritten"],
]);

/** The names the run's own files use, which no experiment may take. */
export const RESERVED_EXPERIMENT_NAMES: readonly string[] = [...RESERVED.keys()];

/**
 * What is wrong with `name` as a name of results files (an experiment's, or the run's own 'base'),
 * or undefined when it is fine: the characters, the leading '.', the length. Reserved names pass.
 */
export function resultsNameProblem(name: string, subject = 'experiment name'): string | undefined {
  if (name === '') return 'an experiment name must not be empty';
  if (!ONLY_NAME_CHARS.test(name)) return `${subject} '${name}' may only use letters, digits, '.', '_' and '-'`;
  if (name.startsWith('.')) return `${subject} '${name}' must not start with '.'`;
  if (name.length > MAX_EXPERIMENT_NAME_LENGTH) {
    return `${subject} '${name.slice(0, 40)}…' is longer than ${MAX_EXPERIMENT_NAME_LENGTH} characters`;
  }
  return undefined;
}

/**
 * What is wrong with `name` as an experiment name, or undefined when it is fine. `subject` is
 * what the message calls the name: "experiment name", or the option that carried it.
 */
export function experimentNameProblem(name: string, subject = 'experiment name'): string | undefined {
  const problem = resultsNameProblem(name, subject);
  if (problem !== undefined) return problem;
  const why = RESERVED.get(name.toLowerCase());
  if (why !== undefined) {
    const all = RESERVED_EXPERIMENT_NAMES.join(', ');
    return `${subject} '${name}' is reserved: ${why}; choose another name (reserved names: ${all})`;
  }
  return undefined;
}

/** True when `name` follows the rule (see experimentNameProblem). */
export function isValidExperimentName(name: string): boolean {
  return experimentNameProblem(name) === undefined;
}

/** `text` with every character a name may not use replaced by '_' (for the parts of generated names). */
export function withNameCharsOnly(text: string): string {
  return text.replace(NOT_A_NAME_CHAR, '_');
}

/** Throws a UserError saying what is wrong with the name. */
export function checkExperimentName(name: string): void {
  const problem = experimentNameProblem(name);
  if (problem !== undefined) throw new UserError(problem);
}
