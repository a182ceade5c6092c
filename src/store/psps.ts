// PSPs: the API clients and their credentials.
import { eq } from 'drizzle-orm';
import type { Tx } from './db.ts';
import { psps } from './schema.ts';

export type PspRow = typeof psps.$inferSelect;
export type NewPsp = typeof psps.$inferInsert;

export async function insertPsp(tx: Tx, psp: NewPsp): Promise<PspRow> {
  const [row] = await tx.insert(psps).values(psp).returning();
  return row;
}

/** Inserts unless a PSP with that id exists; returns whether it was inserted. */
export async function insertPspIfAbsent(tx: Tx, psp: NewPsp): Promise<boolean> {
  const rows = await tx.insert(psps).values(psp).onConflictDoNothing().returning({ pspId: psps.pspId });
  return rows.length > 0;
}

export async function findPspByClientId(tx: Tx, clientId: string): Promise<PspRow | undefined> {
  const [row] = await tx.select().from(psps).where(eq(psps.clientId, clientId));
  return row;
}

export async function findPspById(tx: Tx, pspId: string): Promise<PspRow | undefined> {
  const [row] = await tx.select().from(psps).where(eq(psps.pspId, pspId));
  return row;
}

export async function findPspBySubscriptionKeyHash(tx: Tx, hash: string): Promise<PspRow | undefined> {
  const [row] = await tx.select().from(psps).where(eq(psps.subscriptionKeyHash, hash));
  return row;
}

export async function listPsps(tx: Tx): Promise<PspRow[]> {
  return tx.select().from(psps).orderBy(psps.createdAt);
}

/** Replaces a PSP's client secret hash; undefined when there is no such PSP. */
export async function setClientSecretHash(tx: Tx, pspId: string, clientSecretHash: string): Promise<PspRow | undefined> {
  const [row] = await tx.update(psps).set({ clientSecretHash }).where(eq(psps.pspId, pspId)).returning();
  return row;
}
