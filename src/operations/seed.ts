// The demo data of the test environment: the example values printed in the spec and guides,
// so the documented requests work as printed. Seeded once, on the first start in VIPPS_ENV=test.
import type { Database } from '../store/db.ts';
import { insertMerchant } from '../store/merchants.ts';
import { cardsOf, insertCard, insertUserIfAbsent } from '../store/users.ts';
import { ensurePsp, type PspCredentials } from './psps.ts';
import { BRANDS, CARD_BRANDS } from '../domain/cards.ts';

export const DEMO: { psp: PspCredentials; msn: string; merchantName: string; secondMsn: string; userPhone: string; userName: string } = {
  psp: {
    pspId: 'C948DFD1546347568874C4DDC93A2E3C',
    name: 'Demo PSP',
    clientId: 'fb492b5e-7907-4d83-bc20-c7fb60ca35de',
    clientSecret: 'Y8Kteew6GE3ZmeycEt6egg==',
    subscriptionKey: '0f14ebcab0ec4b29ae0cb90d91b4a84a',
  },
  msn: '123456',
  merchantName: 'Acme Shop',
  /** The MSN the official Postman collection looks up ("Get Merchant by MSN"). */
  secondMsn: '309201',
  userPhone: '92929292',
  userName: 'Test User',
};

export async function seedDemo(database: Database): Promise<void> {
  await database.db.transaction(async (tx) => {
    await ensurePsp(tx, DEMO.psp);
    await insertMerchant(tx, {
      msn: DEMO.msn,
      pspId: DEMO.psp.pspId,
      name: DEMO.merchantName,
      companyName: 'Acme AS',
      companyEmail: 'post@acme.example',
      organizationNumber: '123456789',
      mccCode: '5411',
      website: 'https://acme.example',
      address: { addressLine1: 'Robert Levins gate 5', city: 'Oslo', postCode: '0154', country: 'NO' },
      status: 'ACTIVE',
    });
    await insertMerchant(tx, {
      msn: DEMO.secondMsn,
      pspId: DEMO.psp.pspId,
      name: 'Vipps Merch Shop',
      companyName: 'Vipps Teknologi AS',
      companyEmail: 'developer@example.com',
      organizationNumber: '918130047',
      mccCode: '5411',
      address: { addressLine1: 'Robert Levins gate 5', city: 'Oslo', postCode: '0154', country: 'NO' },
      status: 'ACTIVE',
    });
    const created = await insertUserIfAbsent(tx, DEMO.userPhone, DEMO.userName);
    if (created && (await cardsOf(tx, [DEMO.userPhone])).length === 0) {
      // One card of each kind, Visa debit first (the card PSP API v3 payments use by default).
      let position = 0;
      for (const brand of CARD_BRANDS) {
        await insertCard(tx, { phone: DEMO.userPhone, brand, last4: BRANDS[brand].defaultLast4, expiryMonth: '12', expiryYear: '2030', position: position++ });
      }
    }
  });
}
