// The built package ships an image of a migrated embedded database (made by the build, beside
// vipps-psp/testing). A new DATA_DIR is unpacked from it instead of running initdb: PGlite runs initdb
// in a second PostgreSQL instance, which took seconds and left the process holding several hundred
// MiB more until a garbage collection freed them. Running from the sources there is no image, and
// initdb runs as before.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

const IMAGE = new URL('../testing/database-image.tar.gz', import.meta.url);

export function hasPackagedImage(): boolean {
  return existsSync(IMAGE);
}

/**
 * The packaged image, or undefined when there is none. VIPPS_PSP_DATABASE_IMAGE names another image
 * file (the project's own tests start their server processes from one made by the test support, as
 * the package would); a file that cannot be read counts as none.
 */
export async function packagedImage(): Promise<Blob | undefined> {
  const file = process.env.VIPPS_PSP_DATABASE_IMAGE;
  try {
    return new Blob([await readFile(file === undefined || file === '' ? IMAGE : file)], { type: 'application/gzip' });
  } catch {
    return undefined;
  }
}
