// The operator API's authentication: "Authorization: Bearer <ADMIN_TOKEN>" (the operator, everything)
// or "Bearer <console credential>" (a PSP's person: that PSP's objects only). Sets request.principal.
import type { FastifyRequest } from 'fastify';
import { errors } from '../../domain/errors.ts';
import { adminTokenMatches, type AdminToken } from '../../operations/admin-token.ts';
import { OPERATOR, type Principal } from '../../operations/principals.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is acting, in the console or the operator API (http/admin/guard.ts, http/console/session.ts). */
    principal?: Principal;
    /** How: console | operator-api (for the audit log). */
    via?: 'console' | 'operator-api';
  }
}

export function adminGuard(adminToken: AdminToken) {
  return async (request: FastifyRequest): Promise<void> => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    if (match && adminTokenMatches(adminToken, match[1])) {
      request.principal = OPERATOR;
      request.via = 'operator-api';
      return;
    }
    const psp = match && match[1].length <= 100 ? await adminToken.consoleCredentials?.principalOf(match[1]) : undefined;
    if (psp) {
      request.principal = psp;
      request.via = 'operator-api';
      // Another PSP's objects do not exist for a PSP's person: a route naming another PSP or another
      // PSP's sales unit is a 404, whatever it would have done.
      const params = (request.params ?? {}) as Record<string, string | undefined>;
      if (psp.kind === 'psp' && params.pspId !== undefined && params.pspId.toUpperCase() !== psp.pspId) throw errors.notFound(`No PSP ${params.pspId}.`);
      if (psp.kind === 'psp' && params.msn !== undefined && !(await adminToken.consoleCredentials!.ownsMsn(psp.pspId, params.msn))) {
        throw errors.notFound(`No sales unit ${params.msn}.`);
      }
      return;
    }
    if (adminToken.hash === undefined) throw errors.adminDisabled();
    throw errors.adminUnauthorized();
  };
}
