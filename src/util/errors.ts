/**
 * Errors the user can fix (bad input, bad usage). The CLI prints `message` without a stack
 * trace and exits with code 2. Everything else is a runtime failure (exit code 1).
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly file?: string,
    readonly line?: number,
  ) {
    super(located(message, file, line));
    this.name = 'UserError';
  }
}

/** Whether `e` is a {@link UserError} (bad input or usage the caller can fix), an InputError included. */
export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}

function located(message: string, file?: string, line?: number): string {
  if (file === undefined) return message;
  return `${file}${line !== undefined ? `:${line}` : ''}: ${message}`;
}

/**
 * How a message names the caller's options and the other steps it points to. Library callers
 * see option fields (`popularitySource`); the CLI renders the same message with its flags
 * (`--popularity-source`) and commands, so that no code below the CLI knows a flag.
 */
export interface Naming {
  /** An option field, e.g. `keep`. */
  option(field: string): string;
  /** Another step to run, with the options that matter, e.g. step('prepare', { run }). */
  step(name: string, options?: Readonly<Record<string, string | number | boolean>>): string;
}

/** Field names as they are: what a TypeScript caller passes. */
export const LIBRARY_NAMING: Naming = {
  option: (field) => field,
  step: (name, options = {}) => {
    const args = Object.entries(options)
      .map(([k, v]) => `${k}: ${String(v)}`)
      .join(', ');
    return args ? `${name}(${args})` : name;
  },
};

/** A message, or a template of one that names options and steps through a Naming. */
export type InputMessage = string | ((names: Naming) => string);

/** Where bad input was found: an option field, or a file and line. */
export interface InputLocation {
  /** The offending option field (e.g. 'lambdas'). */
  field?: string;
  file?: string;
  line?: number;
}

/**
 * Bad input with where it was found: the option field, or the file and line. `message` is
 * written with LIBRARY_NAMING; `render` gives the same text with another naming (the CLI's).
 */
export class InputError extends UserError {
  readonly field?: string;
  private readonly template: (names: Naming) => string;

  constructor(message: InputMessage, where: InputLocation = {}) {
    const template = typeof message === 'string' ? () => message : message;
    super(template(LIBRARY_NAMING), where.file, where.line);
    this.name = 'InputError';
    this.template = template;
    if (where.field !== undefined) this.field = where.field;
  }

  /** The message with options and steps named by `names`, prefixed with file:line when known. */
  render(names: Naming): string {
    return located(this.template(names), this.file, this.line);
  }
}

/** Whether `e` is an {@link InputError}. */
export function isInputError(e: unknown): e is InputError {
  return e instanceof InputError;
}
