// Creating PSPs (operator API and the demo seed). Credentials are returned once and stored hashed.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Db, Tx } from '../store/db.ts';
import { findPspById, insertPsp, insertPspIfAbsent, listPsps, replaceClientSecret, setSealedClientSecret } from '../store/psps.ts';
import { sharedKey } from '../store/keys.ts';
import { ApiError } from '../domain/errors.ts';
import { hashSecret, randomHex, sha256, verifySecret } from '../security/secrets.ts';
import { SEAL_KEY_SETTING, seal } from '../security/sealed-secrets.ts';

export interface PspCredentials {
  pspId: string;
  name: string;
  clientId: string;
  clientSecret: string;
  subscriptionKey: string;
}

function newClientSecret(): string {
  return randomBytes(16).toString('base64');
}

export function newCredentials(name: string): PspCredentials {
  return {
    pspId: randomHex(16).toUpperCase(),
    name,
    clientId: randomUUID(),
    clientSecret: newClientSecret(),
    subscriptionKey: randomHex(16),
  };
}

async function toRow(tx: Tx, c: PspCredentials) {
  return {
    pspId: c.pspId,
    name: c.name,
    clientId: c.clientId,
    clientSecretHash: await hashSecret(c.clientSecret),
    subscriptionKeyHash: sha256(c.subscriptionKey),
    clientSecretSealed: seal(await sharedKey(tx, SEAL_KEY_SETTING), c.clientSecret),
  };
}

export async function createPsp(tx: Tx, name: string): Promise<PspCredentials> {
  const credentials = newCredentials(name);
  await insertPsp(tx, await toRow(tx, credentials));
  return credentials;
}

/**
 * Stores given credentials unless that PSP exists (used by the seed). Returns whether stored. A PSP
 * stored before secrets were sealed gets its sealed secret now, if its secret is still the one given.
 */
export async function ensurePsp(tx: Tx, credentials: PspCredentials): Promise<boolean> {
  if (await insertPspIfAbsent(tx, await toRow(tx, credentials))) return true;
  const existing = await findPspById(tx, credentials.pspId);
  if (existing && existing.clientSecretSealed === null && await verifySecret(credentials.clientSecret, existing.clientSecretHash)) {
    await setSealedClientSecret(tx, credentials.pspId, seal(await sharedKey(tx, SEAL_KEY_SETTING), credentials.clientSecret));
  }
  return false;
}

export async function listPspSummaries(tx: Tx) {
  const rows = await listPsps(tx);
  return rows.map((r) => ({ pspId: r.pspId, name: r.name, clientId: r.clientId, createdAt: r.createdAt.toISOString() }));
}

/**
 * Gives a PSP a new client secret and returns it (shown once; stored hashed). The old secret stops
 * working for new access tokens at once, in every process (its remembered verifications go in the
 * same transaction); tokens issued before stay valid until they expire.
 */
export async function rotateClientSecret(db: Db, pspId: string): Promise<{ pspId: string; name: string; clientId: string; clientSecret: string }> {
  const clientSecret = newClientSecret();
  const row = await replaceClientSecret(db, pspId, await hashSecret(clientSecret), seal(await sharedKey(db, SEAL_KEY_SETTING), clientSecret));
  if (!row) throw new ApiError(404, 'psp_not_found', `No PSP with id ${pspId}.`);
  return { pspId: row.pspId, name: row.name, clientId: row.clientId, clientSecret };
}
