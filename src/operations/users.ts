// Test users and their cards (operator API).
import type { Database } from '../store/db.ts';
import { cardsOf, findUser, insertCard, insertUserIfAbsent, listUsers, type CardRow } from '../store/users.ts';
import { ApiError } from '../domain/errors.ts';

export type CardBrand = 'VISA' | 'MASTERCARD';

export interface CardInput {
  brand: CardBrand;
  last4?: string;
  expiryMonth?: string;
  expiryYear?: string;
}

function cardView(c: CardRow) {
  return { cardId: c.cardId, brand: c.brand, maskedNumber: `•••• ${c.last4}`, last4: c.last4, expiryMonth: c.expiryMonth, expiryYear: c.expiryYear };
}

const DEFAULT_LAST4: Record<CardBrand, string> = { VISA: '0010', MASTERCARD: '0020' };

export class Users {
  private readonly database: Database;
  constructor(database: Database) {
    this.database = database;
  }

  async create(phone: string, name: string, cards: CardInput[]) {
    return this.database.db.transaction(async (tx) => {
      const created = await insertUserIfAbsent(tx, phone, name);
      if (!created) throw new ApiError(409, 'user_exists', `A test user with phone number ${phone} already exists.`, { title: 'Conflict' });
      let position = 0;
      for (const card of cards) {
        await insertCard(tx, toCard(phone, card, position++));
      }
      return { phone, name, cards: (await cardsOf(tx, [phone])).map(cardView) };
    });
  }

  async addCard(phone: string, card: CardInput) {
    return this.database.db.transaction(async (tx) => {
      const user = await findUser(tx, phone);
      if (!user) throw new ApiError(404, 'user_not_found', `No test user with phone number ${phone}.`);
      const existing = await cardsOf(tx, [phone]);
      const row = await insertCard(tx, toCard(phone, card, existing.length));
      return cardView(row);
    });
  }

  async list() {
    const users = await listUsers(this.database.db);
    const cards = await cardsOf(this.database.db, users.map((u) => u.phone));
    return users.map((u) => ({ phone: u.phone, name: u.name, cards: cards.filter((c) => c.phone === u.phone).map(cardView) }));
  }
}

function toCard(phone: string, card: CardInput, position: number) {
  return {
    phone,
    brand: card.brand,
    last4: card.last4 ?? DEFAULT_LAST4[card.brand],
    expiryMonth: card.expiryMonth ?? '12',
    expiryYear: card.expiryYear ?? '2030',
    position,
  };
}
