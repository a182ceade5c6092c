// The ceiling of the stack on this machine, for bench:compare: a bare Fastify 5 server with one POST
// route (a JSON body in, parsed by Fastify, a JSON answer out) and one GET route (a JSON answer out),
// no validation, no database, nothing else. Run under the same Node and flags as the server; what
// the server reaches is reported as a share of this.
//   PORT (required), HOST (127.0.0.1)
import Fastify from 'fastify';

const app = Fastify({ logger: false, routerOptions: { caseSensitive: false, ignoreTrailingSlash: true } });

app.post('/v3/psppayments/init', async (request) => {
  const body = request.body as { pspTransactionId: string };
  return { pspTransactionId: body.pspTransactionId, url: `https://example.com/?token=${body.pspTransactionId}` };
});

const DETAILS = {
  pspTransactionId: 'x', merchantSerialNumber: '123456', amount: 49900, currency: 'NOK', paymentText: 'One pair of socks',
  status: 'RESERVED', transactionLogHistory: [{ operation: 'RESERVED', amount: 49900, operationSuccess: true, timeStamp: '2026-01-01T00:00:00.000Z' }],
};

app.get('/v3/psppayments/:id/details', async (request) => ({ ...DETAILS, pspTransactionId: (request.params as { id: string }).id }));

await app.listen({ port: Number(process.env.PORT), host: process.env.HOST ?? '127.0.0.1' });
process.stdout.write('ready\n');
