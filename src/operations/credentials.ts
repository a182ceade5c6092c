// Who is calling: resolves a subscription key to its PSP and checks client credentials.
// Results are cached in memory (a PSP's credentials never change once created), so the hot path
// does neither a database round trip nor scrypt for credentials seen before.
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
  private readonly verifiedClients = new Map<string, string>();

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

  /** Checks client_id and client_secret against the PSP of the subscription key. */
  async authenticateClient(psp: PspIdentity, clientId: string | undefined, clientSecret: string | undefined): Promise<void> {
    if (!clientId || !clientSecret) throw errors.missingClient();
    const cacheKey = `${clientId}\u0000${sha256(clientSecret)}`;
    if (this.verifiedClients.get(cacheKey) === psp.pspId) return;
    const row = await findPspByClientId(this.database.db, clientId);
    // Always run scrypt, also for an unknown client_id, so timing does not tell which part was wrong.
    const ok = await verifySecret(clientSecret, row?.clientSecretHash ?? DUMMY_HASH);
    if (!row || !ok || row.pspId !== psp.pspId) throw errors.invalidClient();
    this.remember(this.verifiedClients, cacheKey, psp.pspId);
  }

  private remember<V>(map: Map<string, V>, key: string, value: V): void {
    if (map.size >= 10_000) map.clear();
    map.set(key, value);
  }
}

/** A valid scrypt hash of a random string, compared against when the client_id is unknown. */
const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
