import { lstatSync, readdirSync, rmdirSync, statSync, unlinkSync } from 'node:fs';
import type { ProtectedPath } from '../spec.js';

/**
 * How one protected path is held read-only inside a writable mount. If it exists it is bound onto
 * itself read-only; if not, an empty read-only placeholder covers the first missing component, so
 * nothing can be created there. bwrap has to make a mount point on the host for a placeholder;
 * `cleanupPlaceholders` removes those afterwards if they are still empty.
 */
export type ProtectAction =
  /** An existing directory on the way to a protected path, bound onto itself read-write so it is a
   * mount point: it cannot be renamed or removed (EBUSY), which would carry the protection away. */
  | { kind: 'pin'; path: string }
  | { kind: 'bind-ro'; path: string }
  | { kind: 'empty-dir'; path: string }
  | { kind: 'empty-file'; path: string };

export function planProtection(protectedPaths: ProtectedPath[]): ProtectAction[] {
  const pins = new Map<string, ProtectAction>();
  const actions = new Map<string, ProtectAction>();
  for (const { root, rel } of protectedPaths) {
    const isDir = rel.endsWith('/');
    const parts = rel.split('/').filter(Boolean);
    const action = actionFor(root, parts, isDir);
    if (!action || actions.has(action.path)) continue;
    actions.set(action.path, action);
    // Existing directories between the root (already a mount point) and the mount point.
    for (let i = 1; i < parts.length && `${root}/${parts.slice(0, i).join('/')}` !== action.path; i++) {
      const dir = `${root}/${parts.slice(0, i).join('/')}`;
      pins.set(dir, { kind: 'pin', path: dir });
    }
  }
  // Pins first: a read-only bind inside a directory must not be carried off by renaming it.
  return [...pins.values(), ...actions.values()];
}

function actionFor(root: string, parts: string[], isDir: boolean): ProtectAction | null {
  for (let i = 1; i <= parts.length; i++) {
    const p = `${root}/${parts.slice(0, i).join('/')}`;
    const st = lstatOrNull(p);
    const last = i === parts.length;
    if (!st) return { kind: last && !isDir ? 'empty-file' : 'empty-dir', path: p };
    // Anything that is not a plain directory on the way (a file, a symlink) is itself frozen.
    if (last || !st.isDirectory()) return { kind: 'bind-ro', path: p };
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
