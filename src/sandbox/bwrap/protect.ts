import { lstatSync, readdirSync, rmdirSync, statSync, unlinkSync } from 'node:fs';

/**
 * How one protected path is held read-only inside a writable mount. If it exists it is bound onto
 * itself read-only; if not, an empty read-only placeholder covers the first missing component, so
 * nothing can be created there. bwrap has to make a mount point on the host for a placeholder;
 * `cleanupPlaceholders` removes those afterwards if they are still empty.
 */
export type ProtectAction =
  | { kind: 'bind-ro'; path: string }
  | { kind: 'empty-dir'; path: string }
  | { kind: 'empty-file'; path: string };

export function planProtection(protectedPaths: string[]): ProtectAction[] {
  const actions = new Map<string, ProtectAction>();
  for (const raw of protectedPaths) {
    const isDir = raw.endsWith('/');
    const full = isDir ? raw.slice(0, -1) : raw;
    const action = actionFor(full, isDir);
    if (action && !actions.has(action.path)) actions.set(action.path, action);
  }
  return [...actions.values()];
}

function actionFor(full: string, isDir: boolean): ProtectAction | null {
  // Walk down from the writable root's nearest existing ancestor.
  const parts = full.split('/');
  for (let i = 2; i <= parts.length; i++) {
    const p = parts.slice(0, i).join('/');
    const st = lstatOrNull(p);
    const last = i === parts.length;
    if (!st) return { kind: last && !isDir ? 'empty-file' : 'empty-dir', path: p };
    if (last || !st.isDirectory()) {
      // Anything that is not a plain directory on the way (a file, a symlink) is itself frozen.
      return i <= 2 ? null : { kind: 'bind-ro', path: p };
    }
  }
  return null;
}

/** Removes placeholders bwrap left on the host, only if they are still empty. */
export function cleanupPlaceholders(actions: ProtectAction[]): void {
  for (const a of actions) {
    try {
      if (a.kind === 'empty-dir' && readdirSync(a.path).length === 0) rmdirSync(a.path);
      if (a.kind === 'empty-file' && statSync(a.path).size === 0) unlinkSync(a.path);
    } catch { /* not there: nothing to clean */ }
  }
}

function lstatOrNull(p: string) {
  try {
    return lstatSync(p);
  } catch {
    return null;
  }
}
