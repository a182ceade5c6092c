// Creating PSPs (operator API and the demo seed). Credentials are returned once and stored hashed.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Tx } from '../store/db.ts';
import { insertPsp, insertPspIfAbsent, listPsps } from '../store/psps.ts';
import { hashSecret, randomHex, sha256 } from '../security/secrets.ts';

export interface PspCredentials {
  pspId: string;
  name: string;
  clientId: string;
  clientSecret: string;
  subscriptionKey: string;
}

export function newCredentials(name: string): PspCredentials {
  return {
    pspId: randomHex(16).toUpperCase(),
    name,
    clientId: randomUUID(),
    clientSecret: randomBytes(16).toString('base64'),
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
