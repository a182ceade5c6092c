// Creating PSPs (operator API and the demo seed). Credentials are returned once and stored hashed.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Db, Tx } from '../store/db.ts';
import { insertPsp, insertPspIfAbsent, listPsps, replaceClientSecret } from '../store/psps.ts';
import { ApiError } from '../domain/errors.ts';
import { hashSecret, randomHex, sha256 } from '../security/secrets.ts';

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

async function toRow(c: PspCredentials) {
  return {
    pspId: c.pspId,
    name: c.name,
    clientId: c.clientId,
    clientSecretHash: await hashSecret(c.clientSecret),
    subscriptionKeyHash: sha256(c.subscriptionKey),
  };
}

export async function createPsp(tx: Tx, name: string): Promise<PspCredentials> {
  const credentials = newCredentials(name);
  await insertPsp(tx, await toRow(credentials));
  return credentials;
}

/** Stores given credentials unless that PSP exists (used by the seed). Returns whether stored. */
export async function ensurePsp(tx: Tx, credentials: PspCredentials): Promise<boolean> {
  return insertPspIfAbsent(tx, await toRow(credentials));
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
  const row = await replaceClientSecret(db, pspId, await hashSecret(clientSecret));
  if (!row) throw new ApiError(404, 'psp_not_found', `No PSP with id ${pspId}.`);
  return { pspId: row.pspId, name: row.name, clientId: row.clientId, clientSecret };
}
