// Test users and their cards (operator API), and the app simulator's login.
import type { Database, Tx } from '../store/db.ts';
import { cardsOf, findUser, insertCard, insertUserIfAbsent, listUsers, updateUser, type CardRow, type TestUserRow } from '../store/users.ts';
import { usersPage } from '../store/console-lists.ts';
import { ApiError } from '../domain/errors.ts';
import { BRANDS, type CardBrand } from '../domain/cards.ts';
import { hashSecret, verifySecret } from '../security/secrets.ts';

/** An app login PIN: 4 to 6 digits, as in the Vipps app. */
export const PIN_PATTERN = '^\\d{4,6}$';
const PIN = new RegExp(PIN_PATTERN);

export type { CardBrand } from '../domain/cards.ts';

export interface CardInput {
  brand: CardBrand;
  last4?: string;
  expiryMonth?: string;
  expiryYear?: string;
}

function cardView(c: CardRow) {
  return { cardId: c.cardId, brand: c.brand, maskedNumber: `•••• ${c.last4}`, last4: c.last4, expiryMonth: c.expiryMonth, expiryYear: c.expiryYear };
}


export class Users {
  private readonly database: Database;
  constructor(database: Database) {
    this.database = database;
  }

  /** `owner`: the PSP whose person makes the user (undefined: the operator). */
  async create(phone: string, name: string, cards: CardInput[], pin?: string, owner?: string) {
    const pinHash = pin === undefined ? null : await hashPin(pin);
    return this.database.db.transaction(async (tx) => {
      const created = await insertUserIfAbsent(tx, phone, name, pinHash, owner ?? null);
      if (!created) throw new ApiError(409, 'user_exists', `A test user with phone number ${phone} already exists.`, { title: 'Conflict' });
      let position = 0;
      for (const card of cards) {
        await insertCard(tx, toCard(phone, card, position++));
      }
      return { phone, name, hasPin: pinHash !== null, cards: (await cardsOf(tx, [phone])).map(cardView) };
    });
  }

  /** Changes the name and/or the PIN (null removes it). */
  async update(phone: string, changes: { name?: string; pin?: string | null }, owner?: string) {
    if (owner !== undefined) await this.owned(phone, owner);
    const pinHash = changes.pin === undefined || changes.pin === null ? changes.pin : await hashPin(changes.pin);
    const row = await updateUser(this.database.db, phone, {
      ...(changes.name !== undefined ? { name: changes.name } : {}),
      ...(pinHash !== undefined ? { pinHash } : {}),
    });
    if (!row) throw new ApiError(404, 'user_not_found', `No test user with phone number ${phone}.`);
    return { phone: row.phone, name: row.name, hasPin: row.pinHash !== null, cards: (await cardsOf(this.database.db, [phone])).map(cardView) };
  }

  async addCard(phone: string, card: CardInput, owner?: string) {
    return this.database.db.transaction(async (tx) => {
      const user = await findUser(tx, phone);
      if (!user || (owner !== undefined && user.ownerPspId !== owner)) throw new ApiError(404, 'user_not_found', `No test user with phone number ${phone}.`);
      const existing = await cardsOf(tx, [phone]);
      const row = await insertCard(tx, toCard(phone, card, existing.length));
      return cardView(row);
    });
  }

  /** Every user, or with `owner` those that PSP's people made. */
  async list(owner?: string) {
    return this.withCards(await listUsers(this.database.db, owner));
  }

  /** Users by phone number, `limit` after the number `after`, with their cards (with `owner`: that PSP's). */
  async page(after: string | undefined, limit: number, owner?: string) {
    return this.withCards(await usersPage(this.database.db, { after, limit, owner }));
  }

  /** Refuses a user another PSP (or the operator) made, as if there were none. */
  private async owned(phone: string, owner: string): Promise<void> {
    const user = await findUser(this.database.db, phone);
    if (!user || user.ownerPspId !== owner) throw new ApiError(404, 'user_not_found', `No test user with phone number ${phone}.`);
  }

  private async withCards(users: TestUserRow[]) {
    const cards = await cardsOf(this.database.db, users.map((u) => u.phone));
    return users.map((u) => ({ phone: u.phone, name: u.name, hasPin: u.pinHash !== null, cards: cards.filter((c) => c.phone === u.phone).map(cardView) }));
  }
}

async function hashPin(pin: string): Promise<string> {
  if (!PIN.test(pin)) throw new ApiError(400, 'validation_error', 'The PIN must be 4 to 6 digits.');
  return hashSecret(pin);
}

/**
 * The scrypt hash (same parameters as a PIN's) of a random value nobody kept: checked when there is no
 * PIN to check, so that every refusal costs the same work. Even a match would not log anyone in.
 */
const NO_PIN_HASH = 'scrypt$16384$8$1$tH2VhSgxtXW/6qKT+66ZzQ==$Tvf8nbtDLULBp9ecMTdc1zAdp3LpQMjybVN/dkCKZfw=';

/**
 * The app simulator's login. A user with a PIN must give it; a user without one logs in with the
 * number alone, unless `pinRequired` (production), where such a user cannot log in at all. An unknown
 * number, a wrong PIN and a user who may not log in are refused alike, after the same scrypt work,
 * so that the answer does not tell whether the number exists.
 */
export async function authenticateUser(tx: Tx, phone: string, pin: string, opts: { pinRequired: boolean }): Promise<TestUserRow | undefined> {
  const user = await findUser(tx, phone);
  if (user && user.pinHash === null && !opts.pinRequired) return user;
  const matches = await verifySecret(pin, user?.pinHash ?? NO_PIN_HASH);
  return matches && user?.pinHash ? user : undefined;
}

function toCard(phone: string, card: CardInput, position: number) {
  return {
    phone,
    brand: card.brand,
    last4: card.last4 ?? BRANDS[card.brand].defaultLast4,
    expiryMonth: card.expiryMonth ?? '12',
    expiryYear: card.expiryYear ?? '2030',
    position,
  };
}
