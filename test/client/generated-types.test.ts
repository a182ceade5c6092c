// The committed types of the client are what openapi-typescript makes of the documents today: a change
// to a document without its types (or the other way round) fails here (renew with `npm run generate:types`).
//   psp-api.ts   openapi/psp-api.openapi.yaml
//   webhooks.ts  openapi/webhooks.openapi.yaml
//   epayment.ts  the ePayment document this server serves (published + PSP parts), by scripts/generate-epayment-types.ts
//   recurring.ts the Recurring document this server serves (published + PSP parts), by scripts/generate-recurring-types.ts
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = path.join(path.dirname(createRequire(import.meta.url).resolve('openapi-typescript/package.json')), 'bin/cli.js');

it('npm run generate:types makes the four generated files', () => {
  const scripts = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  assert.equal(scripts['generate:types'], [
    'openapi-typescript openapi/psp-api.openapi.yaml -o src/client/generated/psp-api.ts',
    'openapi-typescript openapi/webhooks.openapi.yaml -o src/client/generated/webhooks.ts',
    'node scripts/generate-epayment-types.ts',
    'node scripts/generate-recurring-types.ts',
  ].join(' && '), 'the script this test repeats');
});

for (const [name, args] of [
  ['psp-api.ts', (out: string) => [CLI, 'openapi/psp-api.openapi.yaml', '-o', out]],
  ['webhooks.ts', (out: string) => [CLI, 'openapi/webhooks.openapi.yaml', '-o', out]],
  ['epayment.ts', (out: string) => ['scripts/generate-epayment-types.ts', out]],
  ['recurring.ts', (out: string) => ['scripts/generate-recurring-types.ts', out]],
] as const) {
  it(`src/client/generated/${name} is a fresh generation`, () => {
    const work = mkdtempSync(path.join(tmpdir(), 'vipps-psp-types-'));
    try {
      const fresh = path.join(work, name);
      const run = spawnSync(process.execPath, args(fresh), { cwd: ROOT, encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      assert.ok(readFileSync(fresh, 'utf8') === readFileSync(path.join(ROOT, 'src/client/generated', name), 'utf8'),
        `src/client/generated/${name} differs from a fresh generation: run \`npm run generate:types\` and commit the result`);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
}
