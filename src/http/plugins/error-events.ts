// Records each error answer of the PSP API to an authenticated PSP as an `api.error` event, so the
// operator (and the go-live report) can point to "the request in which the PSP got error code N".
// Best-effort and batched: the answer is already on its way and never waits for, or fails with, its record.
import type { FastifyRequest } from 'fastify';
import type { Database } from '../../store/db.ts';
import { EventRecorder } from '../../store/events.ts';
import type { PspErrorListener } from './errors.ts';

const MAX_TEXT = 300;

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value.slice(0, MAX_TEXT) : undefined;
}

/** The pspTransactionId a request is about: its path's, or its body's (init). */
function pspTransactionIdOf(request: FastifyRequest): string | undefined {
  const params = request.params as Record<string, unknown> | undefined;
  const fromPath = text(params?.pspTransactionId);
  if (fromPath) return fromPath;
  const body = request.body as Record<string, unknown> | undefined;
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? text(body.pspTransactionId) : undefined;
}

export function apiErrorEvents(database: Database, onError: (err: unknown) => void): PspErrorListener {
  const recorder = new EventRecorder(database, onError);
  return (request, status, details) => {
    const psp = request.psp;
    // Only answers to a PSP that proved who it is; an unavailable database would refuse the record too.
    if (!psp || status === 503) return;
    const first = details[0];
    const msn = request.msn ?? text(request.headers['merchant-serial-number']);
    const data: Record<string, unknown> = {
      route: request.routeOptions.url ?? request.url.split('?')[0].slice(0, MAX_TEXT),
      method: request.method,
      status,
      errorCode: first?.errorCode,
      contextId: request.id,
    };
    if (first?.errorMessage) data.errorMessage = first.errorMessage.slice(0, MAX_TEXT);
    if (details.length > 1) data.errorCodes = details.map((d) => d.errorCode);
    if (msn) data.msn = msn;
    const pspTransactionId = pspTransactionIdOf(request);
    if (pspTransactionId) data.pspTransactionId = pspTransactionId;
    recorder.record({ pspId: psp.pspId, kind: 'api.error', data });
  };
}
