// The operator API's authentication: "Authorization: Bearer <ADMIN_TOKEN>".
import type { FastifyRequest } from 'fastify';
import { errors } from '../../domain/errors.ts';
import { adminTokenMatches, type AdminToken } from '../../operations/admin-token.ts';

export function adminGuard(adminToken: AdminToken) {
  return async (request: FastifyRequest): Promise<void> => {
    if (adminToken.hash === undefined) throw errors.adminDisabled();
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    if (!match || !adminTokenMatches(adminToken, match[1])) throw errors.adminUnauthorized();
  };
}
