// Limits on failed POST /accessToken/get attempts: per client_id, per client address, off with 0,
// over after the window; the PSP keeps getting tokens during a flood of wrong secrets for its client_id
// from another address, on one process and on two sharing PostgreSQL.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { adminHeaders, backend, call, createPsp, DEMO_CLIENT, startTestServer, type Answer, type TestServer } from '../support/server.ts';

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
  it('answers wrong secrets 429 with Retry-After once a client_id has used up its failures, but still lets the right secret in', async () => {
    const server = await startTestServer({ AUTH_FAILURE_LIMIT_PER_CLIENT: '3', AUTH_FAILURE_LIMIT_PER_ADDRESS: '0', AUTH_FAILURE_WINDOW_SECONDS: '60' });
    try {
      const other = await createPsp(server.url);
      for (let i = 0; i < 3; i++) {
        const answer = await token(server, DEMO_CLIENT.clientId, wrongSecret());
        assert.equal(answer.status, 401, `failure ${i + 1} is checked`);
        assert.match(answer.body.message, /Invalid client credentials/);
      }
      assertLimited(await token(server, DEMO_CLIENT.clientId, wrongSecret()), 60);
      assertLimited(await token(server, DEMO_CLIENT.clientId, wrongSecret()), 60);
      // The right secret, never verified by this server yet, is checked and answered: nobody can
      // lock a PSP out by failing with its client_id.
      const right = await token(server, DEMO_CLIENT.clientId, DEMO_CLIENT.clientSecret);
      assert.equal(right.status, 200, right.text);
      assert.equal(typeof right.body.access_token, 'string');
      // Another client_id is not held back by the demo client's failures.
      const otherWrong = await token(server, other.clientId, wrongSecret(), other.subscriptionKey);
      assert.equal(otherWrong.status, 401);
      const otherRight = await token(server, other.clientId, other.clientSecret, other.subscriptionKey);
      assert.equal(otherRight.status, 200, otherRight.text);
    } finally {
      await server.close();
    }
  });

  it("counts a failure against a client_id only when the subscription key was that PSP's own", async () => {
    const server = await startTestServer({ AUTH_FAILURE_LIMIT_PER_CLIENT: '3', AUTH_FAILURE_LIMIT_PER_ADDRESS: '0' });
    try {
      const other = await createPsp(server.url);
      // Wrong secrets for the demo client_id with a subscription key that is not the demo PSP's:
      // an unknown key, and another PSP's key. None could have been a right guess of the demo secret.
      for (let i = 0; i < 6; i++) {
        const key = i % 2 === 0 ? 'ffffffffffffffffffffffffffffffff' : other.subscriptionKey;
        const answer = await token(server, DEMO_CLIENT.clientId, wrongSecret(), key);
        assert.equal(answer.status, 401, `attempt ${i + 1}: ${answer.text}`);
      }
      // So the demo client_id still has all three of its failures.
      for (let i = 0; i < 3; i++) assert.equal((await token(server, DEMO_CLIENT.clientId, wrongSecret())).status, 401, `failure ${i + 1}`);
      assertLimited(await token(server, DEMO_CLIENT.clientId, wrongSecret()), 60);
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

/**
 * A flood from 127.0.0.2 against the demo client_id: wrong secrets with the demo subscription key and
 * with wrong ones, `count` requests, 20 at a time.
 */
function floodFrom(server: { url: string }, count: number): Promise<Answer[]> {
  return flood(count, 20, (i) => call(server.url, 'POST', '/accessToken/get', {
    from: FLOODER,
    headers: {
      client_id: DEMO_CLIENT.clientId, client_secret: wrongSecret(),
      'Ocp-Apim-Subscription-Key': i % 3 === 2 ? `wrong-${randomUUID()}` : DEMO_CLIENT.subscriptionKey,
    },
  }));
}

const FLOODER = '127.0.0.2';

/** The PSP's own token requests, from 127.0.0.1 with its right credentials, one after another until `until` settles. */
async function pspFetchesTokens(servers: Array<{ url: string }>, until: Promise<unknown>): Promise<Answer[]> {
  const answers: Answer[] = [];
  let done = false;
  void until.finally(() => { done = true; });
  do {
    for (const s of servers) answers.push(await call(s.url, 'POST', '/accessToken/get', { from: '127.0.0.1', headers: demoCredentials() }));
  } while (!done);
  return answers;
}

function demoCredentials(): Record<string, string> {
  return { client_id: DEMO_CLIENT.clientId, client_secret: DEMO_CLIENT.clientSecret, 'Ocp-Apim-Subscription-Key': DEMO_CLIENT.subscriptionKey };
}

function assertFlooderLimited(answers: Answer[]): void {
  const counts = statuses(answers);
  assert.deepEqual(Object.keys(counts).sort(), ['401', '429'], JSON.stringify(counts));
  // The address's 30 allowed failures were checked, no more (the 429s beyond the client_id's 10 were checked, slowly, too).
  assert.ok(counts[401] >= 10 && counts[401] <= 30, JSON.stringify(counts));
  for (const answer of answers) if (answer.status === 429) assertLimited(answer, 60);
}

describe('a flood of wrong client secrets', () => {
  it('with the default limits, on a fresh server: the PSP gets every token from another address, the flooder gets 429', async () => {
    const server = await startTestServer();
    try {
      // The client_id is over its limit before the PSP asks for its first token; nothing is cached.
      const first = await floodFrom(server, 40);
      assert.ok(first.some((a) => a.status === 429));
      const rest = floodFrom(server, 80);
      const psp = await pspFetchesTokens([server], rest);
      const flooder = [...first, ...(await rest)];
      assert.ok(psp.length >= 1);
      for (const answer of psp) assert.equal(answer.status, 200, answer.text);
      assertFlooderLimited(flooder);
      // The flooder's address is over its limit: even the right secret from there is not checked...
      const fromFlooder = await call(server.url, 'POST', '/accessToken/get', { from: FLOODER, headers: { ...demoCredentials(), client_secret: `x${DEMO_CLIENT.clientSecret}` } });
      assertLimited(fromFlooder, 60);
      // ...but credentials verified before are answered from the database, without the limits.
      const verified = await call(server.url, 'POST', '/accessToken/get', { from: FLOODER, headers: demoCredentials() });
      assert.equal(verified.status, 200, verified.text);
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

(backend() === 'postgres' ? describe : describe.skip)('a flood of wrong client secrets on two processes sharing PostgreSQL', () => {
  it('the PSP gets every token from both; credentials verified by one are answered by the other; a rotation ends them in both', async () => {
    const a = await startTestServer();
    const b = await startTestServer({}, { databaseUrl: a.databaseUrl });
    try {
      const first = await Promise.all([floodFrom(a, 40), floodFrom(b, 40)]);
      const rest = Promise.all([floodFrom(a, 60), floodFrom(b, 60)]);
      const psp = await pspFetchesTokens([b, a], rest);
      for (const answer of psp) assert.equal(answer.status, 200, answer.text);
      const later = await rest;
      assertFlooderLimited([...first[0], ...later[0]]);
      assertFlooderLimited([...first[1], ...later[1]]);

      // A third process that never saw these credentials answers them from the database, even to an
      // address over its failure limit.
      const c = await startTestServer({}, { databaseUrl: a.databaseUrl });
      try {
        await floodFrom(c, 40);
        const verified = await call(c.url, 'POST', '/accessToken/get', { from: FLOODER, headers: demoCredentials() });
        assert.equal(verified.status, 200, verified.text);
        // A rotation through one process ends the remembered secret in every process at once.
        const rotated = await call(a.url, 'POST', `/admin/psps/${DEMO_CLIENT.pspId}/rotate-secret`, { headers: adminHeaders() });
        assert.equal(rotated.status, 200, rotated.text);
        for (const s of [a, b, c]) {
          // Refused as any wrong secret is while the client_id is over its failure limit in that process.
          assertLimited(await call(s.url, 'POST', '/accessToken/get', { headers: demoCredentials() }), 60);
          const fresh = await call(s.url, 'POST', '/accessToken/get', { headers: { ...demoCredentials(), client_secret: rotated.body.clientSecret } });
          assert.equal(fresh.status, 200, fresh.text);
        }
      } finally {
        await c.close();
      }
    } finally {
      await b.close();
      await a.close();
    }
  });
});

describe('AUTH_FAILURE_WINDOW_SECONDS', () => {
  it('lets the client try again once the window has passed', async () => {
    const server = await startTestServer({ AUTH_FAILURE_LIMIT_PER_CLIENT: '2', AUTH_FAILURE_LIMIT_PER_ADDRESS: '0', AUTH_FAILURE_WINDOW_SECONDS: '1' });
    try {
      assert.equal((await token(server, DEMO_CLIENT.clientId, wrongSecret())).status, 401);
      assert.equal((await token(server, DEMO_CLIENT.clientId, wrongSecret())).status, 401);
      const limited = await token(server, DEMO_CLIENT.clientId, wrongSecret());
      assertLimited(limited, 1);
      assert.equal(limited.headers.get('retry-after'), '1');
      await new Promise((resolve) => setTimeout(resolve, 1100));
      // A new window: a wrong secret is a plain 401 again.
      assert.equal((await token(server, DEMO_CLIENT.clientId, wrongSecret())).status, 401);
      const right = await token(server, DEMO_CLIENT.clientId, DEMO_CLIENT.clientSecret);
      assert.equal(right.status, 200, right.text);
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
