// POST /accessToken/get: client_id, client_secret and Ocp-Apim-Subscription-Key headers in,
// a bearer token out. Any body (or none) with any Content-Type is accepted and ignored.
import type { FastifyInstance } from 'fastify';
import type { Credentials } from '../../operations/credentials.ts';
import type { TokenService } from '../../security/tokens.ts';
import { checkSystemHeaders } from '../plugins/auth.ts';

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export function registerAccessTokenRoutes(app: FastifyInstance, deps: { credentials: Credentials; tokens: TokenService }): void {
  app.post('/accessToken/get', async (request, reply) => {
    checkSystemHeaders(request);
    const psp = await deps.credentials.pspForSubscriptionKey(header(request.headers['ocp-apim-subscription-key']));
    await deps.credentials.authenticateClient(psp, header(request.headers['client_id']), header(request.headers['client_secret']));
    const token = await deps.tokens.issue(psp.pspId, psp.clientId);
    request.psp = psp;
    return reply.header('cache-control', 'no-store').send(token);
  });

  app.get('/.well-known/jwks.json', async () => deps.tokens.jwks());
}
