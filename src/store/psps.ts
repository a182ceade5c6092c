// PSPs: the API clients and their credentials.
import { and, eq, gt, sql } from 'drizzle-orm';
import type { Db, Tx } from './db.ts';
import { psps, verifiedCredentials } from './schema.ts';

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

/** Replaces a PSP's client secret (its hash and its sealed form); undefined when there is no such PSP. */
export async function setClientSecretHash(tx: Tx, pspId: string, clientSecretHash: string, clientSecretSealed: string): Promise<PspRow | undefined> {
  const [row] = await tx.update(psps).set({ clientSecretHash, clientSecretSealed }).where(eq(psps.pspId, pspId)).returning();
  return row;
}

export async function setSealedClientSecret(tx: Tx, pspId: string, clientSecretSealed: string): Promise<void> {
  await tx.update(psps).set({ clientSecretSealed }).where(eq(psps.pspId, pspId));
}

/** The sealed client secret of a PSP (null: stored before sealing and not rotated since). */
export async function findSealedClientSecret(tx: Tx, pspId: string): Promise<string | null | undefined> {
  const [row] = await tx.select({ sealed: psps.clientSecretSealed }).from(psps).where(eq(psps.pspId, pspId));
  return row?.sealed;
}

/** The PSP whose client credentials of this digest were verified and are still remembered at `now`. */
export async function findVerifiedCredential(tx: Tx, digest: string, now: Date): Promise<string | undefined> {
  const [row] = await tx.select({ pspId: verifiedCredentials.pspId }).from(verifiedCredentials)
    .where(and(eq(verifiedCredentials.digest, digest), gt(verifiedCredentials.expiresAt, now)));
  return row?.pspId;
}

/**
 * Remembers verified credentials until `expiresAt`, only while the PSP's secret is still the one that
 * was checked (a rotation in between wins), and drops the PSP's rows that have expired.
 */
export async function rememberVerifiedCredential(tx: Tx, v: { digest: string; pspId: string; secretHash: string; expiresAt: Date; now: Date }): Promise<void> {
  await tx.execute(sql`
    with gone as (
      delete from ${verifiedCredentials} where ${verifiedCredentials.pspId} = ${v.pspId} and ${verifiedCredentials.expiresAt} <= ${v.now.toISOString()}::timestamptz
    )
    insert into ${verifiedCredentials} (digest, psp_id, expires_at)
    select ${v.digest}, ${v.pspId}, ${v.expiresAt.toISOString()}::timestamptz
    where exists (select 1 from ${psps} where ${psps.pspId} = ${v.pspId} and ${psps.clientSecretHash} = ${v.secretHash})
    on conflict (digest) do update set psp_id = excluded.psp_id, expires_at = greatest(${verifiedCredentials.expiresAt}, excluded.expires_at)`);
}

/** Replaces a PSP's client secret hash and forgets its verified credentials, in one transaction. */
export async function replaceClientSecret(db: Db, pspId: string, clientSecretHash: string, clientSecretSealed: string): Promise<PspRow | undefined> {
  return db.transaction(async (tx) => {
    const row = await setClientSecretHash(tx, pspId, clientSecretHash, clientSecretSealed);
    if (row) await tx.delete(verifiedCredentials).where(eq(verifiedCredentials.pspId, pspId));
    return row;
  });
}
