// Limits on failed POST /accessToken/get attempts: per client_id, per client address, off with 0,
// over after the window; valid clients keep getting tokens during a flood of wrong secrets.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { call, createPsp, DEMO_CLIENT, startTestServer, type Answer, type PspClient, type TestServer } from '../support/server.ts';

function token(server: TestServer, clientId: string, clientSecret: string, subscriptionKey = DEMO_CLIENT.subscriptionKey): Promise<Answer> {
  return call(server.url, 'POST', '/accessToken/get', {
    headers: { client_id: clientId, client_secret: clientSecret, 'Ocp-Apim-Subscription-Key': subscriptionKey },
  });
}

const wrongSecret = () => `wrong-${randomUUID()}`;

function assertLimited(answer: Answer, window: number): void {
  assert.equal(answer.status, 429, answer.text);
  assert.match(answer.headers.get('content-type') ?? '', /^application\/json/);
  const retryAfter = answer.headers.get('retry-after');
  assert.match(retryAfter ?? '', /^\d+$/, 'Retry-After in whole seconds');
  assert.ok(Number(retryAfter) >= 1 && Number(retryAfter) <= window, `Retry-After ${retryAfter} within the ${window} s window`);
  assert.deepEqual(Object.keys(answer.body).sort(), ['contextId', 'error', 'message', 'statusCode']);
  assert.equal(answer.body.statusCode, 429);
  assert.equal(answer.body.error, 'too_many_failed_attempts');
  assert.match(answer.body.message, /Too many failed authentication attempts; retry in \d+ s/);
  assert.equal(answer.body.access_token, undefined);
}

/** Runs `count` calls of `fn`, at most `concurrency` at a time; the answers in order. */
async function flood(count: number, concurrency: number, fn: (i: number) => Promise<Answer>): Promise<Answer[]> {
  const answers: Answer[] = new Array(count);
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) {
      const i = next++;
      answers[i] = await fn(i);
    }
  }));
  return answers;
}

const statuses = (answers: Answer[]) => answers.reduce<Record<number, number>>((acc, a) => ({ ...acc, [a.status]: (acc[a.status] ?? 0) + 1 }), {});

describe('failed /accessToken/get attempts per client_id', () => {
  it('answers 429 with Retry-After once a client_id has used up its failures, without checking the secret', async () => {
    const server = await startTestServer({ AUTH_FAILURE_LIMIT_PER_CLIENT: '3', AUTH_FAILURE_LIMIT_PER_ADDRESS: '0', AUTH_FAILURE_WINDOW_SECONDS: '60' });
    try {
      const other = await createPsp(server.url);
      for (let i = 0; i < 3; i++) {
        const answer = await token(server, DEMO_CLIENT.clientId, wrongSecret());
        assert.equal(answer.status, 401, `failure ${i + 1} is checked`);
        assert.match(answer.body.message, /Invalid client credentials/);
      }
      assertLimited(await token(server, DEMO_CLIENT.clientId, wrongSecret()), 60);
      // The right secret, never verified by this server yet, is not even checked now.
      assertLimited(await token(server, DEMO_CLIENT.clientId, DEMO_CLIENT.clientSecret), 60);
      // Another client_id is not held back by the demo client's failures.
      const otherWrong = await token(server, other.clientId, wrongSecret(), other.subscriptionKey);
      assert.equal(otherWrong.status, 401);
      const otherRight = await token(server, other.clientId, other.clientSecret, other.subscriptionKey);
      assert.equal(otherRight.status, 200, otherRight.text);
    } finally {
      await server.close();
    }
  });

  it("never counts a client's successes", async () => {
    const server = await startTestServer({ AUTH_FAILURE_LIMIT_PER_CLIENT: '3', AUTH_FAILURE_LIMIT_PER_ADDRESS: '3' });
    try {
      for (let i = 0; i < 12; i++) {
        const answer = await token(server, DEMO_CLIENT.clientId, DEMO_CLIENT.clientSecret);
        assert.equal(answer.status, 200, `success ${i + 1}`);
      }
      for (let i = 0; i < 3; i++) {
        assert.equal((await token(server, DEMO_CLIENT.clientId, wrongSecret())).status, 401, `failure ${i + 1} after 12 successes is checked`);
      }
      assertLimited(await token(server, DEMO_CLIENT.clientId, wrongSecret()), 60);
    } finally {
      await server.close();
    }
  });
});

describe('failed /accessToken/get attempts per client address', () => {
  it('answers 429 once one address has used up its failures, whatever the client_id', async () => {
    const server = await startTestServer({ AUTH_FAILURE_LIMIT_PER_CLIENT: '0', AUTH_FAILURE_LIMIT_PER_ADDRESS: '5', AUTH_FAILURE_WINDOW_SECONDS: '30' });
    try {
      for (let i = 0; i < 5; i++) {
        const answer = await token(server, randomUUID(), wrongSecret());
        assert.equal(answer.status, 401, `failure ${i + 1} is checked`);
      }
      assertLimited(await token(server, randomUUID(), wrongSecret()), 30);
      // Also wrong subscription keys and missing credentials are failures of this address.
      assertLimited(await token(server, randomUUID(), wrongSecret(), 'ffffffffffffffffffffffffffffffff'), 30);
      assertLimited(await call(server.url, 'POST', '/accessToken/get', { headers: { 'Ocp-Apim-Subscription-Key': DEMO_CLIENT.subscriptionKey } }), 30);
      // A client this server has not verified yet is held back too: its secret is not checked.
      assertLimited(await token(server, DEMO_CLIENT.clientId, DEMO_CLIENT.clientSecret), 30);
    } finally {
      await server.close();
    }
  });

  it('counts failures without a client_id, and wrong subscription keys', async () => {
    const server = await startTestServer({ AUTH_FAILURE_LIMIT_PER_CLIENT: '0', AUTH_FAILURE_LIMIT_PER_ADDRESS: '2' });
    try {
      const noClient = await call(server.url, 'POST', '/accessToken/get', { headers: { 'Ocp-Apim-Subscription-Key': DEMO_CLIENT.subscriptionKey } });
      assert.equal(noClient.status, 401);
      assert.equal((await token(server, DEMO_CLIENT.clientId, DEMO_CLIENT.clientSecret, 'ffffffffffffffffffffffffffffffff')).status, 401);
      assertLimited(await token(server, DEMO_CLIENT.clientId, DEMO_CLIENT.clientSecret), 60);
    } finally {
      await server.close();
    }
  });
});

describe('a flood of wrong client secrets', () => {
  it('with the default limits: valid clients keep getting tokens, and only the allowed failures are checked', async () => {
    const server = await startTestServer();
    try {
      const other: PspClient = await createPsp(server.url);
      // Both valid clients have had a token from this server before the flood.
      assert.equal((await token(server, other.clientId, other.clientSecret, other.subscriptionKey)).status, 200);
      assert.equal((await token(server, DEMO_CLIENT.clientId, DEMO_CLIENT.clientSecret)).status, 200);

      const valid: Answer[] = [];
      let flooding = true;
      const validClients = (async () => {
        while (flooding) {
          valid.push(await token(server, other.clientId, other.clientSecret, other.subscriptionKey));
          valid.push(await token(server, DEMO_CLIENT.clientId, DEMO_CLIENT.clientSecret));
        }
      })();
      // 20 at a time: wrong secrets for the demo client_id, then for client_ids that do not exist.
      const forDemo = await flood(60, 20, () => token(server, DEMO_CLIENT.clientId, wrongSecret()));
      const forOthers = await flood(60, 20, () => token(server, randomUUID(), wrongSecret()));
      flooding = false;
      await validClients;

      const demo = statuses(forDemo);
      assert.equal(demo[401], 10, `the demo client_id's 10 allowed failures were checked, no more: ${JSON.stringify(demo)}`);
      assert.equal(demo[429], 50);
      const others = statuses(forOthers);
      assert.equal(others[401], 20, `the address's 30 allowed failures (10 used above) were checked, no more: ${JSON.stringify(others)}`);
      assert.equal(others[429], 40);
      for (const answer of [...forDemo, ...forOthers]) {
        if (answer.status === 429) assertLimited(answer, 60);
      }
      assert.ok(valid.length >= 2);
      for (const answer of valid) assert.equal(answer.status, 200, answer.text);
    } finally {
      await server.close();
    }
  });

  it('is checked in full with both limits 0', async () => {
    const server = await startTestServer({ AUTH_FAILURE_LIMIT_PER_CLIENT: '0', AUTH_FAILURE_LIMIT_PER_ADDRESS: '0' });
    try {
      const answers = await flood(40, 8, (i) => token(server, i % 2 ? DEMO_CLIENT.clientId : randomUUID(), wrongSecret()));
      assert.deepEqual(statuses(answers), { 401: 40 });
      assert.equal(answers[0].headers.get('retry-after'), null);
      assert.equal((await token(server, DEMO_CLIENT.clientId, DEMO_CLIENT.clientSecret)).status, 200);
    } finally {
      await server.close();
    }
  });
});

describe('AUTH_FAILURE_WINDOW_SECONDS', () => {
  it('lets the client try again once the window has passed', async () => {
    const server = await startTestServer({ AUTH_FAILURE_LIMIT_PER_CLIENT: '2', AUTH_FAILURE_LIMIT_PER_ADDRESS: '0', AUTH_FAILURE_WINDOW_SECONDS: '1' });
    try {
      assert.equal((await token(server, DEMO_CLIENT.clientId, wrongSecret())).status, 401);
      assert.equal((await token(server, DEMO_CLIENT.clientId, wrongSecret())).status, 401);
      const limited = await token(server, DEMO_CLIENT.clientId, DEMO_CLIENT.clientSecret);
      assertLimited(limited, 1);
      assert.equal(limited.headers.get('retry-after'), '1');
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const right = await token(server, DEMO_CLIENT.clientId, DEMO_CLIENT.clientSecret);
      assert.equal(right.status, 200, right.text);
      assert.equal((await token(server, DEMO_CLIENT.clientId, wrongSecret())).status, 401);
    } finally {
      await server.close();
    }
  });

  it('and the limits are validated at start', () => {
    assert.throws(() => loadConfig({ AUTH_FAILURE_WINDOW_SECONDS: '0' }), (e: unknown) => e instanceof ConfigError && /AUTH_FAILURE_WINDOW_SECONDS/.test(e.message));
    assert.throws(() => loadConfig({ AUTH_FAILURE_LIMIT_PER_CLIENT: '-1' }), (e: unknown) => e instanceof ConfigError && /AUTH_FAILURE_LIMIT_PER_CLIENT/.test(e.message));
    assert.throws(() => loadConfig({ AUTH_FAILURE_LIMIT_PER_ADDRESS: 'many' }), (e: unknown) => e instanceof ConfigError && /AUTH_FAILURE_LIMIT_PER_ADDRESS/.test(e.message));
    const config = loadConfig({});
    assert.deepEqual([config.authFailureLimitPerClient, config.authFailureLimitPerAddress, config.authFailureWindowSeconds], [10, 30, 60]);
  });
});
