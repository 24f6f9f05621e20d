import { chmodSync, mkdtempSync, rmSync } from 'node:fs';

/**
 * Temporary directories for sandbox tests: under /tmp and 0755, because as root the sandbox runs
 * as a dedicated user that must reach them. `cleanup()` removes every one made so far.
 */
export function tempDirs(prefix: string): { tempDir(label: string): string; cleanup(): void } {
  const made: string[] = [];
  return {
    tempDir(label) {
      const dir = mkdtempSync(`/tmp/${prefix}-${label}-`);
      chmodSync(dir, 0o755);
      made.push(dir);
      return dir;
    },
    cleanup() {
      for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
    },
  };
}
