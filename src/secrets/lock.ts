/**
 * One writer at a time. Two `armorer secrets set` at once would each read the store, add their
 * secret and write it back, and one secret would be lost; the lock makes the second one refuse.
 * The lock file holds the owner's pid, so a lock left by a crashed process is taken over.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { leftoverTempFiles, storeError, type StorePaths } from './layout.js';

export async function withStoreLock<T>(p: StorePaths, fn: () => Promise<T>): Promise<T> {
  acquire(p);
  try {
    for (const tmp of leftoverTempFiles(p)) rmSync(tmp, { force: true });
    return await fn();
  } finally {
    rmSync(p.lock, { force: true });
  }
}

function acquire(p: StorePaths): void {
  // Two attempts: the second only after removing a lock whose owner is gone.
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(p.lock, 'wx', 0o600);
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw storeError(`cannot create ${p.lock}: ${(e as Error).message}`, `check the permissions of ${p.dir}`);
      }
    }
    const owner = lockOwner(p.lock);
    // No pid yet: its owner is between creating the file and writing to it. Treat it as held.
    if (owner === undefined || alive(owner)) {
      throw storeError(`the secrets store is being changed by another Armorer process (${owner === undefined ? 'pid unknown' : `pid ${owner}`})`,
        `wait for it to finish; if no such Armorer process exists, remove ${p.lock}`);
    }
    rmSync(p.lock, { force: true });
  }
  throw storeError(`cannot take ${p.lock}: another process keeps taking it`, 'retry when no other "armorer secrets" command runs');
}

function lockOwner(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, it is just not ours to signal.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
