// Who is acting in the console or the operator API: the operator (ADMIN_TOKEN: everything), or a PSP's
// person with a console credential the operator issued (that PSP's objects only).
import { ApiError, errors } from '../domain/errors.ts';
import type { Database } from '../store/db.ts';
import {
  insertConsoleCredential, isMerchantOf, listConsoleCredentials, revokeConsoleCredential, useConsoleCredential, type ConsoleCredentialRow,
} from '../store/console-credentials.ts';
import { randomToken, sha256 } from '../security/secrets.ts';

export type Principal =
  | { kind: 'operator' }
  | { kind: 'psp'; pspId: string; credentialId: string; name: string };

export const OPERATOR: Principal = { kind: 'operator' };

/** Console credentials start with this, so that a presented token is told from the operator token at a glance. */
export const CREDENTIAL_PREFIX = 'vpc_';
const CREDENTIAL_SHAPE = /^vpc_[A-Za-z0-9_-]{43}$/;

export interface ConsoleCredentialView {
  credentialId: string;
  pspId: string;
  name: string;
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

function view(r: ConsoleCredentialRow): ConsoleCredentialView {
  return {
    credentialId: r.credentialId, pspId: r.pspId, name: r.name, createdAt: r.createdAt.toISOString(),
    revokedAt: r.revokedAt?.toISOString() ?? null, lastUsedAt: r.lastUsedAt?.toISOString() ?? null,
  };
}

export class ConsoleCredentials {
  private readonly database: Database;
  constructor(database: Database) {
    this.database = database;
  }

  /** A new credential for the PSP: the token is in this answer only (stored as its sha256). */
  async issue(pspId: string, name: string): Promise<ConsoleCredentialView & { token: string }> {
    const token = `${CREDENTIAL_PREFIX}${randomToken(32)}`;
    const row = await insertConsoleCredential(this.database.db, { pspId, name, tokenHash: sha256(token), now: new Date() });
    return { ...view(row), token };
  }

  async list(pspId: string): Promise<ConsoleCredentialView[]> {
    return (await listConsoleCredentials(this.database.db, pspId)).map(view);
  }

  async revoke(pspId: string, credentialId: string): Promise<ConsoleCredentialView> {
    if (!/^[0-9a-f-]{36}$/i.test(credentialId)) throw errors.notFound(`No console credential ${credentialId} for PSP ${pspId}.`);
    const row = await revokeConsoleCredential(this.database.db, pspId, credentialId, new Date());
    if (!row) throw errors.notFound(`No console credential ${credentialId} for PSP ${pspId}.`);
    return view(row);
  }

  /** Whether the sales unit is the PSP's. */
  ownsMsn(pspId: string, msn: string): Promise<boolean> {
    return isMerchantOf(this.database, pspId, msn);
  }

  /** The PSP principal of a presented token, or undefined (unknown, malformed or revoked). */
  async principalOf(token: string): Promise<Principal | undefined> {
    if (!CREDENTIAL_SHAPE.test(token)) return undefined;
    const found = await useConsoleCredential(this.database, sha256(token), new Date());
    return found ? { kind: 'psp', ...found } : undefined;
  }
}

/** The PSP a principal is limited to; undefined for the operator. */
export function scopeOf(principal: Principal | undefined): string | undefined {
  return principal?.kind === 'psp' ? principal.pspId : undefined;
}

/** Refuses a PSP's person an action that is the operator's alone. */
export function requireOperator(principal: Principal | undefined, what: string): void {
  if (principal?.kind === 'psp') {
    throw new ApiError(403, 'operator_only', `${what} is the operator's: it changes what every PSP on this server sees. Ask the operator.`);
  }
}

/** A PSP's person sees another PSP's object as absent. */
export function mayActOn(principal: Principal | undefined, pspId: string | null | undefined): boolean {
  return principal?.kind !== 'psp' || principal.pspId === pspId;
}
