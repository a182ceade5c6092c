// npm run generate:types (part): the client's ePayment types, generated with openapi-typescript from
// the document this server serves at /openapi/epayment.yaml — the published ePayment document with
// the PSP parts (cardPassthrough, Psp-Id, the card callback) merged in and the Order Management
// Receipt it refers to included, so that nothing is fetched from the network.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { epaymentDocument } from '../src/http/docs/epayment.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'vipps-psp-types-'));
const file = path.join(dir, 'epayment.yaml');
writeFileSync(file, epaymentDocument('https://apitest.vipps.no').toString());
const out = process.argv[2] ?? path.resolve(import.meta.dirname, '../src/client/generated/epayment.ts');
// A field with a default (customerInteraction, …) may be left out of a request: not required in the types.
execFileSync(process.execPath, [path.resolve(import.meta.dirname, '../node_modules/openapi-typescript/bin/cli.js'), file, '--default-non-nullable', 'false', '-o', out], { stdio: 'inherit' });
