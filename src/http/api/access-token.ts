// POST /accessToken/get: client_id, client_secret and Ocp-Apim-Subscription-Key headers in,
// a bearer token out. Any body (or none) with any Content-Type is accepted and ignored.
// Credentials verified before, by any process, for as long as their token lives, are answered first,
// from one indexed read. Others are checked under the failed-attempt limits (AUTH_FAILURE_LIMIT_*):
// over the address's limit the answer is 429 with Retry-After and the secret is not checked; a
// client_id over its limit is still checked, slowly (plugins/auth-failure-limit.ts), so that a flood
// of wrong secrets for a client_id does not lock out the client that holds the right one. A failure
// counts against the client_id only when the subscription key was that PSP's own.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../../config.ts';
import { InvalidClient, type Credentials } from '../../operations/credentials.ts';
import type { TokenService } from '../../security/tokens.ts';
import { checkSystemHeaders } from '../plugins/auth.ts';
import { authFailureLimit } from '../plugins/auth-failure-limit.ts';
import { ApiError } from '../../domain/errors.ts';

type LimitConfig = Pick<Config, 'authFailureLimitPerClient' | 'authFailureLimitPerAddress' | 'authFailureWindowSeconds'>;

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function registerAccessTokenRoutes(app: FastifyInstance, deps: { credentials: Credentials; tokens: TokenService; config: LimitConfig }): void {
  app.register(async (scope) => {
    const limit = await authFailureLimit(scope, {
      perKey: deps.config.authFailureLimitPerClient,
      perAddress: deps.config.authFailureLimitPerAddress,
      windowSeconds: deps.config.authFailureWindowSeconds,
      keyOf: (request) => header(request, 'client_id'),
      credentialOf: (request) => header(request, 'client_secret'),
      failureOf: (error) => (error instanceof InvalidClient && error.guess ? 'key' : error instanceof ApiError && error.status === 401 ? 'address' : undefined),
    });

    scope.post('/accessToken/get', async (request, reply) => {
      checkSystemHeaders(request);
      const subscriptionKey = header(request, 'ocp-apim-subscription-key');
      const clientId = header(request, 'client_id');
      const clientSecret = header(request, 'client_secret');
      const psp = await deps.credentials.verifiedClient(subscriptionKey, clientId, clientSecret)
        ?? await limit.attempt(request, reply, async () => {
          const found = await deps.credentials.pspForSubscriptionKey(subscriptionKey);
          await deps.credentials.authenticateClient(found, clientId, clientSecret);
          return found;
        });
      const token = await deps.tokens.issue(psp.pspId, psp.clientId);
      request.psp = psp;
      return reply.header('cache-control', 'no-store').send(token);
    });
  });

  app.get('/.well-known/jwks.json', async () => deps.tokens.jwks());
}
