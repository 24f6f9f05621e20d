import { accessSync, constants, readFileSync } from 'node:fs';
import { ArmorerError } from '../../core/errors.js';

const SEARCH = ['/usr/bin', '/bin', '/usr/local/bin', '/usr/sbin', '/sbin'];

/** The PATH for helper processes Armorer starts: system directories only, never the caller's PATH. */
export const SYSTEM_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

/** Absolute path of a host tool, from fixed system directories only (never the caller's PATH). */
export function findTool(name: string): string | null {
  for (const dir of SEARCH) {
    try {
      accessSync(`${dir}/${name}`, constants.X_OK);
      return `${dir}/${name}`;
    } catch { /* next */ }
  }
  return null;
}

export function requireBwrap(): string {
  const bwrap = findTool('bwrap');
  if (!bwrap) {
    throw new ArmorerError('ARMORER_E_BWRAP_MISSING', 'bubblewrap (bwrap) is not installed',
      'install it: apt-get install bubblewrap (Debian/Ubuntu) or dnf install bubblewrap (Fedora)');
  }
  return bwrap;
}

/** A cheap static check; the live probe in `doctor` and the run itself are the real test. */
export function userNamespacesEnabled(): { ok: boolean; why?: string } {
  const read = (p: string) => {
    try {
      return readFileSync(p, 'utf8').trim();
    } catch {
      return null;
    }
  };
  if (read('/proc/sys/user/max_user_namespaces') === '0') return { ok: false, why: 'user.max_user_namespaces is 0' };
  if (read('/proc/sys/kernel/unprivileged_userns_clone') === '0') return { ok: false, why: 'kernel.unprivileged_userns_clone is 0' };
  if (read('/proc/sys/kernel/apparmor_restrict_unprivileged_userns') === '1') {
    return { ok: false, why: 'AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns=1)' };
  }
  return { ok: true };
}
