// Who is calling: resolves a subscription key to its PSP and checks client credentials.
// Results are cached in memory (a PSP's id, client_id and subscription key never change once created),
// so the hot path does neither a database round trip nor scrypt for credentials seen before. A verified client secret
// is remembered for VERIFIED_CLIENT_TTL_MS under an HMAC with a key of this process (so memory holds
// nothing a secret could be guessed against offline); identical checks in flight at once share one scrypt.
import { createHmac, createSecretKey, randomBytes } from 'node:crypto';
import type { Database } from '../store/db.ts';
import { findPspByClientId, findPspById, findPspBySubscriptionKeyHash, type PspRow } from '../store/psps.ts';
import { sha256, verifySecret } from '../security/secrets.ts';
import { errors } from '../domain/errors.ts';

export interface PspIdentity {
  pspId: string;
  clientId: string;
  subscriptionKeyHash: string;
  name: string;
}

function identity(row: PspRow): PspIdentity {
  return { pspId: row.pspId, clientId: row.clientId, subscriptionKeyHash: row.subscriptionKeyHash, name: row.name };
}

export class Credentials {
  private readonly database: Database;
  private readonly bySubscriptionKey = new Map<string, PspIdentity>();
  private readonly byId = new Map<string, PspIdentity>();
  /** HMAC of client_id and secret → the PSP it was verified for and until when (ms). */
  private readonly verifiedClients = new Map<string, { pspId: string; until: number }>();
  /** Checks of client_id and secret in progress: HMAC → the client's PSP id, or undefined when wrong. */
  private readonly checking = new Map<string, { result: Promise<string | undefined>; begun: number }>();
  private readonly hmacKey = createSecretKey(randomBytes(32));
  /** When each PSP's verified secrets were last forgotten: a check begun before that is not remembered. */
  private readonly forgotten = new Map<string, number>();

  constructor(database: Database) {
    this.database = database;
  }

  /** The PSP a subscription key belongs to; 401 when missing or unknown. */
  async pspForSubscriptionKey(key: string | undefined): Promise<PspIdentity> {
    if (key === undefined || key.trim() === '') throw errors.missingSubscriptionKey();
    const hash = sha256(key.trim());
    const cached = this.bySubscriptionKey.get(hash);
    if (cached) return cached;
    const row = await findPspBySubscriptionKeyHash(this.database.db, hash);
    if (!row) throw errors.invalidSubscriptionKey();
    const found = identity(row);
    this.remember(this.bySubscriptionKey, hash, found);
    return found;
  }

  async pspById(pspId: string): Promise<PspIdentity | undefined> {
    const cached = this.byId.get(pspId);
    if (cached) return cached;
    const row = await findPspById(this.database.db, pspId);
    if (!row) return undefined;
    const found = identity(row);
    this.remember(this.byId, pspId, found);
    return found;
  }

  /**
   * The PSP of credentials verified recently by this process, from memory alone (no database, no
   * scrypt); undefined when they were not, whether or not they are right.
   */
  verifiedClient(subscriptionKey: string | undefined, clientId: string | undefined, clientSecret: string | undefined): PspIdentity | undefined {
    if (!subscriptionKey || !clientId || !clientSecret) return undefined;
    const psp = this.bySubscriptionKey.get(sha256(subscriptionKey.trim()));
    return psp && this.isVerified(psp, this.clientKey(clientId, clientSecret)) ? psp : undefined;
  }

  /**
   * Forgets every client secret verified for this PSP (after its secret was rotated), so this process
   * checks the next one against the database. Other processes forget theirs within VERIFIED_CLIENT_TTL_MS.
   */
  forgetVerifiedSecrets(pspId: string): void {
    for (const [key, verified] of this.verifiedClients) if (verified.pspId === pspId) this.verifiedClients.delete(key);
    this.forgotten.set(pspId, Date.now());
  }

  /** Checks client_id and client_secret against the PSP of the subscription key. */
  async authenticateClient(psp: PspIdentity, clientId: string | undefined, clientSecret: string | undefined): Promise<void> {
    if (!clientId || !clientSecret) throw errors.missingClient();
    const cacheKey = this.clientKey(clientId, clientSecret);
    if (this.isVerified(psp, cacheKey)) return;
    let check = this.checking.get(cacheKey);
    if (!check) {
      check = { result: this.checkClient(clientId, clientSecret).finally(() => this.checking.delete(cacheKey)), begun: Date.now() };
      this.checking.set(cacheKey, check);
    }
    const pspId = await check.result;
    if (pspId !== psp.pspId) throw errors.invalidClient();
    // A check that read the database before a rotation is not remembered.
    if ((this.forgotten.get(pspId) ?? -1) >= check.begun) return;
    this.remember(this.verifiedClients, cacheKey, { pspId, until: Date.now() + VERIFIED_CLIENT_TTL_MS });
  }

  /** The PSP id of the client when the secret is its own; undefined otherwise. */
  private async checkClient(clientId: string, clientSecret: string): Promise<string | undefined> {
    const row = await findPspByClientId(this.database.db, clientId);
    // Always run scrypt, also for an unknown client_id, so timing does not tell which part was wrong.
    const ok = await verifySecret(clientSecret, row?.clientSecretHash ?? DUMMY_HASH);
    return row && ok ? row.pspId : undefined;
  }

  private clientKey(clientId: string, clientSecret: string): string {
    return createHmac('sha256', this.hmacKey).update(clientId).update('\u0000').update(clientSecret).digest('base64url');
  }

  private isVerified(psp: PspIdentity, cacheKey: string): boolean {
    const verified = this.verifiedClients.get(cacheKey);
    if (!verified) return false;
    if (verified.until <= Date.now()) {
      this.verifiedClients.delete(cacheKey);
      return false;
    }
    return verified.pspId === psp.pspId;
  }

  private remember<V>(map: Map<string, V>, key: string, value: V): void {
    if (map.size >= 10_000) map.clear();
    map.set(key, value);
  }
}

/**
 * How long a verified client secret is accepted from memory: short, so that a secret changed or
 * removed elsewhere would stop working soon; a client asking for tokens often pays scrypt once per it.
 */
export const VERIFIED_CLIENT_TTL_MS = 10 * 60_000;

/** A valid scrypt hash of a random string, compared against when the client_id is unknown. */
const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
