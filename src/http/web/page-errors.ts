// What an error on an HTML page (the user's pages and the operator console) shows: the status, a
// title and a message for the error page. The API's JSON error shapes are not used there.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../../domain/errors.ts';
import { handleDatabaseUnavailable } from '../plugins/errors.ts';
import { WebError } from './security.ts';

export interface PageError {
  status: number;
  title: string;
  message: string;
}

/**
 * The page to show for `error`. An unexpected error is logged (as `place`); a lost database is a
 * 503 with Retry-After. `refusedTitle` heads a refusal of the domain (an ApiError other than 404).
 */
export function pageErrorOf(
  error: FastifyError | ApiError | WebError, request: FastifyRequest, reply: FastifyReply, opts: { refusedTitle: string; place: string },
): PageError {
  if (error instanceof WebError) {
    if (error.status >= 500) request.log.error({ err: error }, `error on ${opts.place}`);
    return { status: error.status, title: error.title, message: error.message };
  }
  if (error instanceof ApiError) {
    return { status: error.status, title: error.status === 404 ? 'Not found' : opts.refusedTitle, message: error.message };
  }
  if (handleDatabaseUnavailable(error, request, reply)) {
    return { status: 503, title: 'Temporarily unavailable', message: 'The service cannot reach its database right now. Try again in a moment.' };
  }
  if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    return {
      status: error.statusCode,
      title: 'Request not accepted',
      message: error.statusCode === 413 ? 'The form sent was too large.' : 'The request could not be understood.',
    };
  }
  request.log.error({ err: error }, `unhandled error on ${opts.place}`);
  return { status: 500, title: 'Something went wrong', message: 'The page could not be shown. Try again in a moment.' };
}
