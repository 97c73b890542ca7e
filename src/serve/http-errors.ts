/**
 * How failures become answers: `{error, field?}` JSON with 400 for bad input (schema
 * violations name the field), 404 for an unknown user or route, 413 for a body or a request
 * over its limit, 500 (logged, no details) for anything else.
 */
import type { FastifyError, FastifyReply, FastifyRequest, FastifySchemaValidationError } from 'fastify';
import { InputError, isUserError } from '../util/errors.js';
import { PATTERN_MEANINGS } from './schemas.js';

/** A failure with the HTTP status to answer it with. */
export class HttpError extends Error {
  /**
   * @param status the HTTP status code
   * @param field the request field at fault, when one is
   */
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** The JSON body of an error answer. */
export interface ErrorBody {
  error: string;
  field?: string;
}

/** A service error as an HttpError: unknown user → 404, other bad input → 400, anything else unchanged. */
export function asHttpError(e: unknown): unknown {
  if (!isUserError(e)) return e;
  const field = e instanceof InputError ? e.field : undefined;
  return new HttpError(/^unknown user/.test(e.message) ? 404 : 400, e.message, field);
}

/** `/users/0/x` → `users[0].x`. */
function fieldName(instancePath: string): string {
  return instancePath
    .split('/')
    .filter((p) => p !== '')
    .map((p, i) => (/^[0-9]+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`))
    .join('');
}

/** The first schema violation as a message naming its field (a repeated query parameter said as such). */
export function describeValidation(
  errors: readonly FastifySchemaValidationError[],
  context: string,
  data: unknown,
): ErrorBody {
  const anyOf = errors.find((e) => e.keyword === 'anyOf');
  const first = anyOf ?? errors[0];
  if (!first) return { error: `${context} is invalid` };
  const p = first.params;
  if (first.keyword === 'required') {
    const field = String(p.missingProperty);
    return { error: `${context}: '${field}' is required`, field };
  }
  if (first.keyword === 'additionalProperties') {
    const field = String(p.additionalProperty);
    return { error: `${context}: unknown ${context === 'querystring' ? 'parameter' : 'field'} '${field}'`, field };
  }
  const field = fieldName(first.instancePath);
  const where = field === '' ? context : `${context} ${field}`;
  const value =
    field !== '' && typeof data === 'object' && data !== null ? (data as Record<string, unknown>)[field] : 0;
  if (context === 'querystring' && Array.isArray(value)) return { error: `${where}: given more than once`, field };
  let message = first.message ?? 'is invalid';
  if (anyOf) {
    const branches = errors.filter((e) => e !== anyOf && e.instancePath === anyOf.instancePath);
    message = branches.map((e) => e.message).join(' or ');
  } else if (first.keyword === 'pattern') {
    message = PATTERN_MEANINGS[String(p.pattern)] ?? message;
  }
  return field === '' ? { error: `${where} ${message}` } : { error: `${where}: ${message}`, field };
}

/** Fastify's error handler: every failure answered as JSON (see the module comment). */
export function replyWithError(e: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): void {
  const fe = e as FastifyError;
  if (fe.validation) {
    const context = fe.validationContext ?? 'request';
    const data = context === 'querystring' ? request.query : context === 'body' ? request.body : undefined;
    void reply.code(400).send(describeValidation(fe.validation, context, data));
    return;
  }
  const err = asHttpError(e);
  if (err instanceof HttpError) {
    const body: ErrorBody = err.field === undefined ? { error: err.message } : { error: err.message, field: err.field };
    void reply.code(err.status).send(body);
    return;
  }
  const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
  if (status >= 400 && status < 500) {
    void reply.code(status).send({ error: fe.message });
    return;
  }
  request.log.error({ err: e }, 'request failed');
  void reply.code(500).send({ error: 'internal error' });
}
