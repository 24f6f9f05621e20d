import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the sandbox finds the env-proxy preload (a read-only data file Armorer writes there). */
export const PRELOAD_PATH = '/opt/armorer/proxy-env.cjs';

let cached: string | null | undefined;

/** The built preload (dist/preload/proxy-env.cjs), found from this module up to package.json. */
export function proxyPreload(): string | null {
  if (cached !== undefined) return cached;
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) {
      const file = join(dir, 'dist', 'preload', 'proxy-env.cjs');
      cached = existsSync(file) ? readFileSync(file, 'utf8') : null;
      return cached;
    }
  }
  cached = null;
  return cached;
}
