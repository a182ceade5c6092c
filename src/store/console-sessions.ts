// The operator console's sessions (schema: console_sessions). Every process reads the same rows, so a
// session ended by one is refused by all at their next request.
import { and, desc, eq, gt, isNull, lt, or, sql } from 'drizzle-orm';
import type { Tx } from './db.ts';
import { consoleSessions } from './schema.ts';

export type ConsoleSessionRow = typeof consoleSessions.$inferSelect;

export async function insertConsoleSession(tx: Tx, s: {
  tokenHash: string; adminTokenHash: string; now: Date; expiresAt: Date; address: string | null; userAgent: string | null;
}): Promise<ConsoleSessionRow> {
  const [row] = await tx.insert(consoleSessions).values({
    tokenHash: s.tokenHash, adminTokenHash: s.adminTokenHash, createdAt: s.now, lastSeenAt: s.now, expiresAt: s.expiresAt,
    address: s.address, userAgent: s.userAgent,
  }).returning();
  return row;
}

/** Conditions of a session still open at `now` under the current operator token. */
function open(adminTokenHash: string, now: Date, idleSince: Date) {
  return and(
    isNull(consoleSessions.endedAt),
    eq(consoleSessions.adminTokenHash, adminTokenHash),
    gt(consoleSessions.expiresAt, now),
    gt(consoleSessions.lastSeenAt, idleSince),
  );
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

/** The open sessions, the most recently used first. */
export async function openConsoleSessions(tx: Tx, opts: { adminTokenHash: string; now: Date; idleSince: Date }): Promise<ConsoleSessionRow[]> {
  return tx.select().from(consoleSessions).where(open(opts.adminTokenHash, opts.now, opts.idleSince))
    .orderBy(desc(consoleSessions.lastSeenAt)).limit(200);
}

/** Ends a session by its token (sign-out) or by its id; returns whether an open one was ended. */
export async function endConsoleSession(tx: Tx, which: { tokenHash: string } | { sessionId: string }, now: Date): Promise<boolean> {
  const match = 'tokenHash' in which ? eq(consoleSessions.tokenHash, which.tokenHash) : eq(consoleSessions.sessionId, which.sessionId);
  const ended = await tx.update(consoleSessions).set({ endedAt: now })
    .where(and(match, isNull(consoleSessions.endedAt))).returning({ id: consoleSessions.sessionId });
  return ended.length > 0;
}

/** Ends every open session but one; returns how many were ended. */
export async function endOtherConsoleSessions(tx: Tx, keepSessionId: string, now: Date): Promise<number> {
  const ended = await tx.update(consoleSessions).set({ endedAt: now })
    .where(and(isNull(consoleSessions.endedAt), sql`${consoleSessions.sessionId} <> ${keepSessionId}`)).returning({ id: consoleSessions.sessionId });
  return ended.length;
}

/** Deletes sessions ended, expired or idle before `before` (kept a while for the record). */
export async function pruneConsoleSessions(tx: Tx, before: Date): Promise<void> {
  await tx.delete(consoleSessions).where(or(lt(consoleSessions.endedAt, before), lt(consoleSessions.expiresAt, before), lt(consoleSessions.lastSeenAt, before)));
}
