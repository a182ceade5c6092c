// Creates the PostgreSQL database named in DATABASE_URL when it does not exist yet, so that
// `DATABASE_URL=postgres://…/vipps vipps-psp start` works on a server where only the user exists.
// The database is created from the server's `postgres` maintenance database with the same
// credentials. Several processes may do this at once: whoever loses the race finds it created.

/** The database does not exist and could not be created; the message says how to create it. */
export class DatabaseMissingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatabaseMissingError';
  }
}

// PostgreSQL error codes (SQLSTATE).
const INVALID_CATALOG_NAME = '3D000'; // database "x" does not exist
const DUPLICATE_DATABASE = '42P04';
const UNIQUE_VIOLATION = '23505'; // two CREATE DATABASE of one name committing together
const INSUFFICIENT_PRIVILEGE = '42501';

function codeOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

/**
 * Makes sure the database of `url` exists. Returns `created: true` when this call created it.
 * Throws DatabaseMissingError when it is missing and cannot be created here; any other connection
 * error (a wrong password, an unreachable server) is thrown as the driver reports it.
 */
export async function ensureDatabase(url: string): Promise<{ created: boolean; name: string; where: string }> {
  const { default: pg } = await import('pg');
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, '')) || decodeURIComponent(target.username) || 'postgres';
  const where = `${target.hostname}:${target.port || 5432}`;
  const probe = new pg.Client({ connectionString: url });
  try {
    await probe.connect();
    return { created: false, name, where };
  } catch (err) {
    if (codeOf(err) !== INVALID_CATALOG_NAME) throw err;
  } finally {
    await probe.end().catch(() => {});
  }

  const user = decodeURIComponent(target.username) || process.env.PGUSER || 'the connecting user';
  const maintenance = new URL(url);
  maintenance.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: maintenance.toString() });
  try {
    await admin.connect();
  } catch (err) {
    await admin.end().catch(() => {});
    throw new DatabaseMissingError(howToCreate(name, where, user, `could not connect to the "postgres" database to create it: ${(err as Error).message}`));
  }
  try {
    await admin.query(`create database ${admin.escapeIdentifier(name)}`);
    return { created: true, name, where };
  } catch (err) {
    const code = codeOf(err);
    if (code === DUPLICATE_DATABASE || code === UNIQUE_VIOLATION) return { created: false, name, where };
    if (code === INSUFFICIENT_PRIVILEGE) {
      throw new DatabaseMissingError(howToCreate(name, where, user, `user "${user}" may not create databases (no CREATEDB privilege)`));
    }
    throw err;
  } finally {
    await admin.end().catch(() => {});
  }
}

function howToCreate(name: string, where: string, user: string, why: string): string {
  const [host, port] = where.split(/:(?=\d+$)/);
  const quoted = `"${name.replaceAll('"', '""')}"`;
  const owner = user === 'the connecting user' ? '' : ` OWNER "${user.replaceAll('"', '""')}"`;
  return [
    `Database ${quoted} does not exist on ${where}, and it could not be created: ${why}.`,
    'Create it once as a user who may (a superuser, or one with CREATEDB), then start again:',
    `  createdb -h ${host} -p ${port} -U postgres${owner ? ` -O '${user}'` : ''} '${name}'`,
    `  or in psql: CREATE DATABASE ${quoted}${owner};`,
  ].join('\n');
}
