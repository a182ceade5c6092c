// `npm run build`: compiles src/ into dist/ for the published package, where Node does not run
// TypeScript (it refuses type stripping under node_modules). The folder layout stays the same, so a
// file found relative to import.meta.url in src/ is found in dist/ too; what is not TypeScript under
// src/ (the page templates) is copied beside the compiled code. drizzle/ and openapi/ are shipped as
// they are, at the same depth from dist/ as from src/.
import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
const SRC = path.join(ROOT, 'src');
const DIST = path.join(ROOT, 'dist');

rmSync(DIST, { recursive: true, force: true });

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const compiled = spawnSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, stdio: 'inherit' });
if (compiled.status !== 0) {
  process.stderr.write('build: tsc failed\n');
  process.exit(compiled.status ?? 1);
}

cpSync(SRC, DIST, {
  recursive: true,
  // Every folder is walked; of the files, only those that are not TypeScript are copied.
  filter: (from) => statSync(from).isDirectory() || !from.endsWith('.ts'),
});

// tsc writes a declaration file for every module, but the package's types are those of its entry
// points (package.json "exports"): keep the declarations they reach, drop the others (most of them).
const ENTRIES = ['index.d.ts', 'client/index.d.ts', 'testing/index.d.ts'].map((entry) => path.join(DIST, entry));
const reached = new Set<string>();
const pending = [...ENTRIES];
for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
  if (reached.has(file)) continue;
  reached.add(file);
  for (const [, specifier] of readFileSync(file, 'utf8').matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g)) {
    pending.push(path.resolve(path.dirname(file), specifier.replace(/\.(ts|js)$/, '.d.ts')));
  }
}
for (const entry of readdirSync(DIST, { recursive: true, withFileTypes: true })) {
  const file = path.join(entry.parentPath, entry.name);
  if (entry.isFile() && file.endsWith('.d.ts') && !reached.has(file)) rmSync(file);
}

// vipps-psp/testing starts each server from an image of a migrated embedded database rather than
// running initdb (seconds) every time: it is made here, from the migrations shipped with the build.
const { makeDatabaseImage } = await import('../src/testing/index.ts');
const image = await makeDatabaseImage();
writeFileSync(path.join(DIST, 'testing', 'database-image.tar.gz'), Buffer.from(await image.arrayBuffer()));
