// Renders every error in the shape of the route family it happened on:
//   /psp/*          the PSP API's ErrorDetails array [{errorCode, errorMessage, contextId}]
//   /accessToken/*  the token endpoint's {statusCode, error, message}
//   /epayment/*, /webhooks/*  the ePayment (and Webhooks) API's Problem JSON: type https://httpstatuses.io/<status>,
//                   instance (the path without /epayment or /webhooks), traceId, the domain code in extraDetails
//   /recurring/*    the Recurring API's ErrorV3: the same problem with contextId, extraDetails [{name, reason}],
//                   as application/json;charset=UTF-8 (the published document's media type)
//   everything else RFC 7807 problem details (Signup API, operator API)
// (The PSP and Signup APIs' answers then get the media type their spec declares: plugins/protocol.ts.)
// Framework errors (bad JSON, body too large, wrong method, unknown route) become clean 4xx; a
// database that cannot be reached is a 503 with Retry-After; anything unexpected is logged and
// answered with a 500 that carries no stack or internals.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, type FieldProblem } from '../../domain/errors.ts';
import { databaseFailure, isDatabaseUnavailable } from '../../store/db-errors.ts';

/** The Retry-After of an answer given while the database is unavailable, in seconds. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

export function databaseUnavailable(): ApiError {
  return new ApiError(503, '503', 'The database is unavailable; retry later.');
}

/**
 * If `error` means the database cannot be reached: logs it at warn (the driver's code and reason,
 * no stack), sets Retry-After, and returns true. The caller then answers 503.
 */
export function handleDatabaseUnavailable(error: unknown, request: FastifyRequest, reply: FastifyReply): boolean {
  if (!isDatabaseUnavailable(error)) return false;
  request.databaseUnavailable = true;
  request.log.warn(databaseFailure(error), 'database unavailable; answered 503');
  reply.header('retry-after', String(DATABASE_RETRY_AFTER_SECONDS));
  return true;
}

type Family = 'psp' | 'token' | 'epayment' | 'recurring' | 'problem';

export function familyOf(url: string): Family {
  const path = url.toLowerCase();
  if (path.startsWith('/psp/')) return 'psp';
  if (path.startsWith('/accesstoken')) return 'token';
  // The Webhooks API answers in the ePayment API's Problem shape.
  if (path.startsWith('/epayment/') || path.startsWith('/webhooks/')) return 'epayment';
  if (path.startsWith('/recurring/')) return 'recurring';
  return 'problem';
}

/**
 * An ePayment problem's traceId: the traceparent of the request's span, in the trace the request
 * came with (its `traceparent` header) or a new one.
 */
function traceIdOf(request: FastifyRequest): string {
  if (request.span) return request.span.traceparent();
  const hex = request.id.replace(/[^0-9a-f]/gi, '').toLowerCase().padEnd(48, '0');
  return `00-${hex.slice(0, 32)}-${hex.slice(16, 32)}-01`;
}

/** The ePayment API's Problem for an error: a domain code (four digits or more) goes in extraDetails. */
export function epaymentProblem(request: FastifyRequest, error: ApiError): Record<string, unknown> {
  const path = request.url.split('?')[0];
  const extraDetails = /^\d{4,5}$/.test(error.code)
    ? [{ name: 'ErrorCode', reason: error.code }]
    : error.details.length > 0 ? error.details : null;
  return {
    type: `https://httpstatuses.io/${error.status}`,
    title: error.title,
    detail: error.message,
    instance: path.replace(/^\/(epayment|webhooks)/i, ''),
    status: error.status,
    extraDetails,
    traceId: traceIdOf(request),
  };
}

/** The Recurring API's ErrorV3 for an error. */
export function recurringProblem(request: FastifyRequest, error: ApiError): Record<string, unknown> {
  return {
    type: `https://developer.vippsmobilepay.com/docs/APIs/recurring-api/recurring-api-problems#${error.code.replace(/_/g, '-')}`,
    title: error.title,
    status: error.status,
    detail: error.message,
    instance: request.url.split('?')[0],
    contextId: request.id,
    extraDetails: error.details.length > 0 ? error.details : [],
  };
}

/** The PSP API's ErrorDetails array for an error. */
export function pspErrorDetails(request: FastifyRequest, error: ApiError): Array<{ errorCode: string; errorMessage: string; contextId: string }> {
  return error.details.length > 0 && error.code === 'validation_error'
    ? error.details.map((d) => ({ errorCode: d.name, errorMessage: d.reason, contextId: request.id }))
    : [{ errorCode: error.code, errorMessage: error.message, contextId: request.id }];
}

/** Told of every error answer the PSP API gives (after it is sent on its way); must not throw or wait. */
export type PspErrorListener = (request: FastifyRequest, status: number, details: ReturnType<typeof pspErrorDetails>) => void;

export function sendError(request: FastifyRequest, reply: FastifyReply, error: ApiError, onPspError?: PspErrorListener): FastifyReply {
  return sendErrorShape(request, reply, error, onPspError);
}

function sendErrorShape(request: FastifyRequest, reply: FastifyReply, error: ApiError, onPspError?: PspErrorListener): FastifyReply {
  const family = familyOf(request.url);
  reply.code(error.status);
  if (family === 'psp') {
    const details = pspErrorDetails(request, error);
    const sent = reply.type('application/json;charset=UTF-8').send(details);
    if (onPspError) {
      try { onPspError(request, error.status, details); } catch { /* an answer never fails for its record */ }
    }
    return sent;
  }
  if (family === 'token') {
    return reply.type('application/json').send({ statusCode: error.status, error: error.code, message: error.message, contextId: request.id });
  }
  if (family === 'epayment') return reply.type('application/problem+json').send(epaymentProblem(request, error));
  // The published Recurring document gives its errors the media type application/json;charset=UTF-8.
  if (family === 'recurring') return reply.type('application/json;charset=UTF-8').send(recurringProblem(request, error));
  const body: Record<string, unknown> = {
    type: `about:blank#${error.code}`,
    title: error.title,
    status: error.status,
    detail: error.message,
    instance: `urn:uuid:${request.id}`,
  };
  if (error.details.length > 0) body.extraDetails = error.details;
  return reply.type('application/problem+json').send(body);
}

/** Ajv errors as field problems: `address.postCode` "must match pattern …". */
export function validationProblems(error: FastifyError): FieldProblem[] {
  const list = error.validation ?? [];
  return list.map((v) => {
    const base = (v.instancePath || '').replace(/^\//, '').replace(/\//g, '.');
    const params = v.params as Record<string, unknown>;
    if (v.keyword === 'required' && typeof params.missingProperty === 'string') {
      return { name: base ? `${base}.${params.missingProperty}` : params.missingProperty, reason: 'Is required' };
    }
    if (v.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
      return { name: base ? `${base}.${params.additionalProperty}` : params.additionalProperty, reason: 'Is not a known property' };
    }
    return { name: base || (error.validationContext ?? 'body'), reason: capitalize(v.message ?? 'Is invalid') };
  });
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function registerErrorHandling(app: FastifyInstance, opts: { onPspError?: PspErrorListener } = {}): void {
  const sendError = (request: FastifyRequest, reply: FastifyReply, error: ApiError) => sendErrorShape(request, reply, error, opts.onPspError);
  app.setErrorHandler((error: FastifyError | ApiError, request, reply) => {
    if (error instanceof ApiError) return sendError(request, reply, error);
    const fe = error as FastifyError;
    if (fe.validation && (familyOf(request.url) === 'epayment' || familyOf(request.url) === 'recurring')) {
      return sendError(request, reply, new ApiError(400, 'validation_error', 'See extraDetails for further details', { title: 'Bad Request', details: validationProblems(fe) }));
    }
    if (fe.validation) {
      const where = fe.validationContext === 'headers' ? 'header' : fe.validationContext ?? 'body';
      return sendError(request, reply, new ApiError(400, 'validation_error', `Invalid request: the ${where} did not validate.`, {
        title: "Your request parameters didn't validate.", details: validationProblems(fe),
      }));
    }
    if (handleDatabaseUnavailable(error, request, reply)) return sendError(request, reply, databaseUnavailable());
    const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
    if (status >= 400 && status < 500) {
      return sendError(request, reply, new ApiError(status, clientCode(fe), clientMessage(fe, status)));
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendError(request, reply, new ApiError(500, '500', 'Internal error. Quote the contextId when reporting it.'));
  });

  app.setNotFoundHandler((request, reply) => {
    sendError(request, reply, new ApiError(404, '404', `No route ${request.method} ${request.url.split('?')[0]}. The paths are in the manual at /guide and in the documents at /docs.`));
  });
}

function clientCode(fe: FastifyError): string {
  switch (fe.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'invalid_json';
    case 'FST_ERR_CTP_BODY_TOO_LARGE': return 'body_too_large';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': return 'unsupported_media_type';
    default: return String(fe.statusCode ?? 400);
  }
}

function clientMessage(fe: FastifyError, status: number): string {
  switch (fe.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY': return 'Invalid request: the body is not valid JSON.';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY': return 'Invalid request: the body is empty.';
    case 'FST_ERR_CTP_BODY_TOO_LARGE': return 'The request body is larger than this endpoint accepts.';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': return 'Unsupported Content-Type: send application/json.';
    default: return status === 405 ? 'Method not allowed.' : `Invalid request: ${fe.message}`;
  }
}
