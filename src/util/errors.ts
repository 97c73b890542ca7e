/**
 * Errors the user can fix (bad input, bad usage). The CLI prints `message` without a stack
 * trace and exits with code 2. Everything else is a runtime failure (exit code 1).
 */
export class UserError extends Error {
  constructor(message: string, readonly file?: string, readonly line?: number) {
    super(
      file !== undefined
        ? `${file}${line !== undefined ? `:${line}` : ''}: ${message}`
        : message,
    );
    this.name = 'UserError';
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}
