import autocannon from 'autocannon';
import { pspHeaders } from '/work/main/bench/common.ts';
const url = process.argv[2];
const h = await pspHeaders(url);
const r: any = await new Promise((res) => autocannon({ url: url + '/psp/v3/psppayments/nope/details', connections: 50, duration: 5, headers: h }, (e, r) => res(r)));
console.log('details-404', Math.round(r.requests.average), r.latency.p99);
