// Console credentials of PSPs (schema: console_credentials). Looked up on every use, so a revocation
// is refused by every process at its next request.
import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import type { Database, Tx } from './db.ts';
import { consoleCredentials } from './schema.ts';

export type ConsoleCredentialRow = typeof consoleCredentials.$inferSelect;

export async function insertConsoleCredential(tx: Tx, c: { pspId: string; name: string; tokenHash: string; now: Date }): Promise<ConsoleCredentialRow> {
  const [row] = await tx.insert(consoleCredentials).values({ pspId: c.pspId, name: c.name, tokenHash: c.tokenHash, createdAt: c.now }).returning();
  return row;
}

export async function listConsoleCredentials(tx: Tx, pspId: string): Promise<ConsoleCredentialRow[]> {
  return tx.select().from(consoleCredentials).where(eq(consoleCredentials.pspId, pspId)).orderBy(desc(consoleCredentials.createdAt)).limit(500);
}

/** Revokes a credential of the PSP; the row as it is now, or undefined when the PSP has no such credential. */
export async function revokeConsoleCredential(tx: Tx, pspId: string, credentialId: string, now: Date): Promise<ConsoleCredentialRow | undefined> {
  const [row] = await tx.update(consoleCredentials).set({ revokedAt: sql`coalesce(${consoleCredentials.revokedAt}, ${now.toISOString()}::timestamptz)` })
    .where(and(eq(consoleCredentials.pspId, pspId), eq(consoleCredentials.credentialId, credentialId))).returning();
  return row;
}

const USE = `
  update console_credentials set last_used_at = $2::timestamptz
  where token_hash = $1 and revoked_at is null
  returning credential_id, psp_id, name`;

/** The unrevoked credential with this token hash (its last use set to `now`), or undefined. */
export async function useConsoleCredential(database: Database, tokenHash: string, now: Date): Promise<{ credentialId: string; pspId: string; name: string } | undefined> {
  const [row] = await database.query<{ credential_id: string; psp_id: string; name: string }>('console_credential_use', USE, [tokenHash, now.toISOString()]);
  return row ? { credentialId: row.credential_id, pspId: row.psp_id, name: row.name } : undefined;
}

/** Whether a credential is still unrevoked. */
export async function credentialIsLive(tx: Tx, credentialId: string): Promise<boolean> {
  const [row] = await tx.select({ id: consoleCredentials.credentialId }).from(consoleCredentials)
    .where(and(eq(consoleCredentials.credentialId, credentialId), isNull(consoleCredentials.revokedAt)));
  return row !== undefined;
}

/** Whether the sales unit is the PSP's (a PSP's person may act on it). */
export async function isMerchantOf(database: Database, pspId: string, msn: string): Promise<boolean> {
  const found = await database.query<{ n: number }>('console_owns_msn', 'select 1 as n from merchants where msn = $1 and psp_id = $2', [msn, pspId]);
  return found.length > 0;
}
