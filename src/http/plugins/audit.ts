// Records every action in the console and the operator API in the audit log: each request that may
// change something (not GET or HEAD) by a signed-in operator or PSP person, whatever its answer. Written
// before the answer is sent, so that once an action is answered it is in the log.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Database } from '../../store/db.ts';
import { insertAudit, type AuditRow } from '../../store/audit.ts';

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function registerAudit(app: FastifyInstance, database: Database): void {
  app.addHook('onSend', async (request, reply, payload) => {
    const principal = request.principal;
    if (!principal || READS.has(request.method)) return payload;
    try {
      await insertAudit(database.db, entryOf(request, reply.statusCode));
    } catch (err) {
      request.log.warn({ err }, 'an action could not be written to the audit log');
    }
    return payload;
  });
}

function entryOf(request: FastifyRequest, status: number): Omit<AuditRow, 'auditId'> {
  const principal = request.principal!;
  const params = Object.fromEntries(Object.entries((request.params ?? {}) as Record<string, unknown>)
    .filter(([, v]) => typeof v === 'string').map(([k, v]) => [k, (v as string).slice(0, 200)]));
  const psp = principal.kind === 'psp' ? principal.pspId : typeof params.pspId === 'string' ? params.pspId.replace(/-/g, '').toUpperCase() : null;
  return {
    at: new Date(),
    actorKind: principal.kind,
    actorPspId: principal.kind === 'psp' ? principal.pspId : null,
    credentialId: principal.kind === 'psp' ? principal.credentialId : null,
    actorName: principal.kind === 'psp' ? principal.name : 'operator',
    via: request.via ?? (request.url.toLowerCase().startsWith('/console') ? 'console' : 'operator-api'),
    method: request.method,
    route: request.routeOptions.url ?? request.url.split('?')[0].slice(0, 300),
    object: params,
    pspId: psp,
    status,
    address: request.ip.slice(0, 64),
  };
}
