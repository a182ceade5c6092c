// The cache of merchants that authorizes every request's Merchant-Serial-Number, on an in-memory
// embedded database: requests that miss at once share one read, and a local change is seen at once.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { migrate, openDatabase, type Database, type Db } from '../../src/store/db.ts';
import { DEMO, seedDemo } from '../../src/operations/seed.ts';
import { Merchants } from '../../src/operations/merchants.ts';

describe('the merchant cache', () => {
  let database: Database;
  let selects = 0;
  let merchants: Merchants;

  before(async () => {
    const opened = await openDatabase({ dataDir: 'memory://' });
    await migrate(opened);
    await seedDemo(opened);
    // Counts the reads made through the query builder.
    const db = new Proxy(opened.db, {
      get(target, prop, receiver) {
        if (prop === 'select') selects += 1;
        return Reflect.get(target, prop, receiver) as unknown;
      },
    }) as Db;
    database = { ...opened, db };
    merchants = new Merchants(database, 60_000);
  });
  after(async () => {
    await database.close();
  });

  it('reads a merchant once for many requests that miss at the same time', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => merchants.authorize(DEMO.psp.pspId, DEMO.msn)));
    assert.deepEqual(new Set(answers), new Set([DEMO.msn]));
    assert.equal(selects, 1);
    await merchants.authorize(DEMO.psp.pspId, DEMO.msn);
    assert.equal(selects, 1, 'then answers from memory');
  });

  it('reads again after a change made here, and refuses a deactivated merchant at once', async () => {
    await merchants.setFlags(DEMO.msn, { active: false });
    await assert.rejects(merchants.authorize(DEMO.psp.pspId, DEMO.msn), { status: 400, code: '21' });
    const before = selects;
    await Promise.all([merchants.setFlags(DEMO.msn, { active: true }), merchants.authorize(DEMO.psp.pspId, DEMO.msn).catch(() => undefined)]);
    assert.equal(await merchants.authorize(DEMO.psp.pspId, DEMO.msn), DEMO.msn, 'active again right after the change answered');
    assert.ok(selects > before);
  });

  it('refuses an unknown merchant and one of another PSP', async () => {
    await assert.rejects(merchants.authorize(DEMO.psp.pspId, '999999'), { status: 403, message: /Invalid MSN: 999999/ });
    await assert.rejects(merchants.authorize('another-psp', DEMO.msn), { status: 403, message: /Invalid MSN: 123456/ });
  });
});
