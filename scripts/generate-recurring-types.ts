// npm run generate:types (part): the client's Recurring types, generated with openapi-typescript from
// the document this server serves at /openapi/recurring.yaml — the published Recurring document's
// operations with the PSP parts (cardPassthrough, Psp-Id, the v4 charge endpoints) merged in.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { recurringDocument } from '../src/http/docs/recurring.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'vipps-psp-types-'));
const file = path.join(dir, 'recurring.yaml');
writeFileSync(file, recurringDocument('https://apitest.vipps.no').toString());
const out = process.argv[2] ?? path.resolve(import.meta.dirname, '../src/client/generated/recurring.ts');
execFileSync(process.execPath, [path.resolve(import.meta.dirname, '../node_modules/openapi-typescript/bin/cli.js'), file, '--default-non-nullable', 'false', '-o', out], { stdio: 'inherit' });
