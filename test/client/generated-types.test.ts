// The committed types of the PSP API are what openapi-typescript makes of openapi/psp-api.openapi.yaml
// today: a change to either without the other fails here (renew with `npm run generate:types`).
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const COMMITTED = path.join(ROOT, 'src/client/generated/psp-api.ts');

it('src/client/generated/psp-api.ts is a fresh generation from openapi/psp-api.openapi.yaml', () => {
  const scripts = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const command = scripts['generate:types'];
  assert.equal(command, 'openapi-typescript openapi/psp-api.openapi.yaml -o src/client/generated/psp-api.ts', 'the script this test repeats');
  const cli = path.join(path.dirname(createRequire(import.meta.url).resolve('openapi-typescript/package.json')), 'bin/cli.js');
  const work = mkdtempSync(path.join(tmpdir(), 'vipps-psp-types-'));
  try {
    const fresh = path.join(work, 'psp-api.ts');
    const run = spawnSync(process.execPath, [cli, 'openapi/psp-api.openapi.yaml', '-o', fresh], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.ok(readFileSync(fresh, 'utf8') === readFileSync(COMMITTED, 'utf8'),
      'src/client/generated/psp-api.ts differs from a fresh generation: run `npm run generate:types` and commit the result');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
