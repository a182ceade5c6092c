// The operator console's sessions (schema: console_sessions). Every process reads the same rows, so a
// session ended by one is refused by all at their next request.
import { and, desc, eq, gt, isNotNull, isNull, lt, or, sql } from 'drizzle-orm';
import type { Tx } from './db.ts';
import { consoleCredentials, consoleSessions } from './schema.ts';

export type ConsoleSessionRow = typeof consoleSessions.$inferSelect;

/** A new session: the operator's (bound to the operator token) or a PSP person's (bound to a console credential). */
export async function insertConsoleSession(tx: Tx, s: {
  tokenHash: string; adminTokenHash: string; now: Date; expiresAt: Date; address: string | null; userAgent: string | null;
  credentialId?: string; pspId?: string;
}): Promise<ConsoleSessionRow> {
  const [row] = await tx.insert(consoleSessions).values({
    tokenHash: s.tokenHash, adminTokenHash: s.adminTokenHash, createdAt: s.now, lastSeenAt: s.now, expiresAt: s.expiresAt,
    address: s.address, userAgent: s.userAgent, credentialId: s.credentialId ?? null, pspId: s.pspId ?? null,
  }).returning();
  return row;
}

/**
 * Conditions of a session still open at `now`: the operator's under the current operator token, a PSP
 * person's while its console credential is not revoked.
 */
function open(adminTokenHash: string, now: Date, idleSince: Date) {
  return and(
    isNull(consoleSessions.endedAt),
    or(
      and(isNull(consoleSessions.credentialId), eq(consoleSessions.adminTokenHash, adminTokenHash)),
      and(isNotNull(consoleSessions.credentialId), sql`exists (select 1 from ${consoleCredentials} c where c.credential_id = ${consoleSessions.credentialId} and c.revoked_at is null)`),
    ),
    gt(consoleSessions.expiresAt, now),
    gt(consoleSessions.lastSeenAt, idleSince),
  );
}

/** The name of a console credential (who a PSP session is). */
export async function credentialName(tx: Tx, credentialId: string): Promise<string | undefined> {
  const [row] = await tx.select({ name: consoleCredentials.name }).from(consoleCredentials).where(eq(consoleCredentials.credentialId, credentialId));
  return row?.name;
}

/**
 * The open session of this token, its last request moved to `now` when it was older than `touchBefore`
 * (so an active session writes at most once per that interval); undefined when there is none.
 */
export async function useConsoleSession(tx: Tx, tokenHash: string, opts: { adminTokenHash: string; now: Date; idleSince: Date; touchBefore: Date }): Promise<ConsoleSessionRow | undefined> {
  const where = and(eq(consoleSessions.tokenHash, tokenHash), open(opts.adminTokenHash, opts.now, opts.idleSince));
  const [touched] = await tx.update(consoleSessions).set({ lastSeenAt: opts.now })
    .where(and(where, lt(consoleSessions.lastSeenAt, opts.touchBefore))).returning();
  if (touched) return touched;
  const [row] = await tx.select().from(consoleSessions).where(where);
  return row;
}

/** The open sessions (with `pspId`, that PSP's people's), the most recently used first. */
export async function openConsoleSessions(tx: Tx, opts: { adminTokenHash: string; now: Date; idleSince: Date; pspId?: string }): Promise<ConsoleSessionRow[]> {
  return tx.select().from(consoleSessions).where(and(open(opts.adminTokenHash, opts.now, opts.idleSince), opts.pspId === undefined ? undefined : eq(consoleSessions.pspId, opts.pspId)))
    .orderBy(desc(consoleSessions.lastSeenAt)).limit(200);
}

/**
 * Ends a session by its token (sign-out) or by its id (with `pspId`, only one of that PSP's people's);
 * returns whether an open one was ended.
 */
export async function endConsoleSession(tx: Tx, which: { tokenHash: string } | { sessionId: string; pspId?: string }, now: Date): Promise<boolean> {
  const match = 'tokenHash' in which
    ? eq(consoleSessions.tokenHash, which.tokenHash)
    : and(eq(consoleSessions.sessionId, which.sessionId), which.pspId === undefined ? undefined : eq(consoleSessions.pspId, which.pspId));
  const ended = await tx.update(consoleSessions).set({ endedAt: now })
    .where(and(match, isNull(consoleSessions.endedAt))).returning({ id: consoleSessions.sessionId });
  return ended.length > 0;
}

/** Ends every open session but one (with `pspId`, of that PSP's people); returns how many were ended. */
export async function endOtherConsoleSessions(tx: Tx, keepSessionId: string, now: Date, pspId?: string): Promise<number> {
  const ended = await tx.update(consoleSessions).set({ endedAt: now })
    .where(and(isNull(consoleSessions.endedAt), sql`${consoleSessions.sessionId} <> ${keepSessionId}`, pspId === undefined ? undefined : eq(consoleSessions.pspId, pspId)))
    .returning({ id: consoleSessions.sessionId });
  return ended.length;
}

/** Deletes sessions ended, expired or idle before `before` (kept a while for the record). */
export async function pruneConsoleSessions(tx: Tx, before: Date): Promise<void> {
  await tx.delete(consoleSessions).where(or(lt(consoleSessions.endedAt, before), lt(consoleSessions.expiresAt, before), lt(consoleSessions.lastSeenAt, before)));
}
