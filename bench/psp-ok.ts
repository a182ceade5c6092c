// A PSP that answers every makePayment with OK — and every ePayment card callback with RESERVE (the one
// body says both) — run as its own process by the benchmarks so that the load generator's event loop
// does not delay its answers. Prints its URL on stdout.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"paymentInfo":{"status":"OK"},"status":"RESERVE","networkTransactionReference":"bench"}');
  });
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`http://127.0.0.1:${(server.address() as AddressInfo).port}/makepayment\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
