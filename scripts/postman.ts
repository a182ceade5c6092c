// npm run test:postman — runs the official Postman collection for PSP API v3 with newman against a
// fresh server (embedded database, or DATABASE_URL) with the demo values, and fails unless every
// request answers 2xx and no collection script fails. A PSP on loopback answers makePayment.
//   POSTMAN_COLLECTION (default test/postman/postman-psp-v3.collection.json)
import http from 'node:http';
import path from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import newman from 'newman';
import { accessToken, startTestServer, DEMO } from '../test/support/server.ts';

const root = path.resolve(import.meta.dirname, '..');
const collectionPath = process.env.POSTMAN_COLLECTION ?? path.join(root, 'test/postman/postman-psp-v3.collection.json');
if (!existsSync(collectionPath)) {
  process.stderr.write('The Postman collection was not found; set POSTMAN_COLLECTION to its path.\n');
  process.exit(2);
}

const psp = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"paymentInfo":{"status":"OK"}}');
  });
});
await new Promise<void>((r) => psp.listen(0, '127.0.0.1', r));
const pspUrl = `http://127.0.0.1:${(psp.address() as AddressInfo).port}/makepayment`;
const server = await startTestServer();

// The collection's signup folder comes before its "Get Access Token" request, so start with a token
// in the environment, as a Postman user who ran "Get Access Token" first would have.
const values: Record<string, string> = {
  base_url: server.url,
  access_token: await accessToken(server.url),
  client_id: DEMO.psp.clientId,
  client_secret: DEMO.psp.clientSecret,
  'Ocp-Apim-Subscription-Key-PSP': DEMO.psp.subscriptionKey,
  'PSP-ID': DEMO.psp.pspId,
  merchantSerialNumber: DEMO.msn,
  msn: DEMO.secondMsn,
  mobileNumber: DEMO.userPhone,
  makePaymentUrl: pspUrl,
  pspRedirectUrl: 'https://example.com/return',
  amount: '200',
  status: 'CAPTURED',
  paymentTextInit: 'Transaction initiated through Postman',
  paymentTextUpdate: 'Transaction updated through Postman',
  idempotency_key: '{{$guid}}',
  vipps_system_name: 'postman',
  vipps_system_version: '2.0',
  vipps_system_plugin_name: 'vipps-postman',
  vipps_system_plugin_version: '2.0',
};

let failures = 0;
try {
  const summary = await new Promise<newman.NewmanRunSummary>((resolve, reject) => {
    newman.run({
      collection: JSON.parse(readFileSync(collectionPath, 'utf8')),
      environment: { values: Object.entries(values).map(([key, value]) => ({ key, value, enabled: true })) },
      reporters: ['cli'],
    }, (err, result) => (err ? reject(err) : resolve(result)));
  });
  for (const execution of summary.run.executions) {
    const code = execution.response?.code;
    const name = execution.item.name;
    if (code === undefined || code < 200 || code >= 300) {
      failures += 1;
      process.stderr.write(`✖ ${name}: HTTP ${code} ${execution.response?.stream?.toString().slice(0, 300) ?? ''}\n`);
    }
  }
  failures += summary.run.failures.length;
  process.stdout.write(`\n${summary.run.executions.length - failures} passed, ${failures} failed\n`);
} finally {
  await server.close();
  psp.closeAllConnections();
  psp.close();
}
process.exit(failures === 0 ? 0 : 1);
