// Authentication of API requests, as the real gateway does it: the subscription key names the PSP,
// the bearer token must be one this server issued to that PSP, the Psp-Id must be that PSP, and
// (where the spec requires it) the Merchant-Serial-Number must be an active merchant of that PSP.
import type { FastifyRequest } from 'fastify';
import { errors } from '../../domain/errors.ts';
import type { Credentials, PspIdentity } from '../../operations/credentials.ts';
import type { Merchants } from '../../operations/merchants.ts';
import type { TokenService } from '../../security/tokens.ts';

declare module 'fastify' {
  interface FastifyRequest {
    psp?: PspIdentity;
    msn?: string;
  }
}

export interface AuthDeps {
  credentials: Credentials;
  tokens: TokenService;
  merchants: Merchants;
}

const SYSTEM_HEADERS = ['vipps-system-name', 'vipps-system-version', 'vipps-system-plugin-name', 'vipps-system-plugin-version'];

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The optional Vipps-System-* headers: at most 30 characters each. */
export function checkSystemHeaders(request: FastifyRequest): void {
  for (const name of SYSTEM_HEADERS) {
    const value = header(request, name);
    if (value !== undefined && value.length > 30) {
      throw errors.headerTooLong(name.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase()));
    }
  }
}

export function normalizePspId(value: string): string {
  return value.trim().replace(/-/g, '').toUpperCase();
}

/** Subscription key + bearer token; returns the PSP both belong to. */
export async function authenticate(request: FastifyRequest, deps: AuthDeps): Promise<PspIdentity> {
  checkSystemHeaders(request);
  const psp = await deps.credentials.pspForSubscriptionKey(header(request, 'ocp-apim-subscription-key'));
  const authorization = header(request, 'authorization');
  if (!authorization) throw errors.missingToken();
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match) throw errors.invalidToken();
  const claims = await deps.tokens.verify(match[1]);
  if (!claims) throw errors.invalidToken();
  if (claims.pspId !== psp.pspId) throw errors.tokenKeyMismatch();
  request.psp = psp;
  return psp;
}

/** The full check of a PSP API route. */
export function pspApiAuth(deps: AuthDeps, opts: { requireMsn: boolean }) {
  return async (request: FastifyRequest): Promise<void> => {
    const psp = await authenticate(request, deps);
    const pspIdHeader = header(request, 'psp-id');
    if (!pspIdHeader || pspIdHeader.trim() === '') throw errors.missingPspId();
    if (normalizePspId(pspIdHeader) !== psp.pspId) throw errors.pspIdMismatch(pspIdHeader.trim());
    if (opts.requireMsn) request.msn = await deps.merchants.authorize(psp.pspId, header(request, 'merchant-serial-number'));
  };
}

/** The Signup API: subscription key and token; the token decides the PSP. */
export function signupAuth(deps: AuthDeps) {
  return async (request: FastifyRequest): Promise<void> => {
    await authenticate(request, deps);
  };
}
