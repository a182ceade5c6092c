// The Recurring API's errors: RFC 7807 problems (ErrorV3) with `contextId`, and `extraDetails` as
// `{name, reason}` items (open-questions G11: the newest published types, as ePayment and Webhooks
// have them). The HTTP layer renders an ApiError on a /recurring/ path in that shape.
import { ApiError, type FieldProblem } from '../errors.ts';

/** A schema error: 400 naming each field. */
export function recurringSchemaError(problems: FieldProblem[]): ApiError {
  return new ApiError(400, 'validation_error', 'One or more fields of the request are invalid: see extraDetails.', { title: 'Bad Request', details: problems });
}

export function badRequest(detail: string, problems: FieldProblem[] = []): ApiError {
  return new ApiError(400, 'bad_request', detail, { title: 'Bad Request', details: problems });
}

export function notFound(detail: string): ApiError {
  return new ApiError(404, 'not_found', detail, { title: 'Not Found' });
}

export function conflict(detail: string): ApiError {
  return new ApiError(409, 'conflict', detail, { title: 'Conflict' });
}

/** The same Idempotency-Key with another request. */
export function idempotencyConflict(): ApiError {
  return new ApiError(409, 'idempotency_conflict', 'The Idempotency-Key was already used with a different request. Use a new key for a new request.', { title: 'Conflict' });
}
