#!/usr/bin/env node
// Entry point of the `vipps-psp` command. The sources are TypeScript run by Node's type stripping.
import { main } from '../src/cli/main.ts';

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
