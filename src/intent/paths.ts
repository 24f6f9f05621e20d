/**
 * The checks a folder named by an intent (or a catalog entry) must pass before it becomes a
 * `files.*` grant. They are syntactic, so deriving stays a pure function of the text; the policy
 * loader canonicalises the path (symlinks, existence) when the grant is used.
 */
import { posix } from 'node:path';
import { ArmorerError } from '../core/index.js';

const FORBIDDEN_ROOTS = ['/proc', '/sys', '/dev'];

/** The path as it goes into the scope: trailing slashes and repeated slashes removed. */
export function intentPath(typed: string, where: string): string {
  const fix = 'name a folder by its full path, e.g. ~/notes or /srv/data';
  const refuse = (why: string, f = fix): never => {
    throw new ArmorerError('ARMORER_E_PATH', `${where} names the path "${typed}", which ${why}`, f);
  };
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(typed)) refuse('contains a control character');
  if (typed !== typed.trim()) refuse('starts or ends with a space');
  if (!typed.startsWith('/') && !typed.startsWith('~/') && typed !== '~') {
    refuse('is neither absolute nor under ~/');
  }
  if (typed.split('/').includes('..')) refuse('contains ".."', 'name the folder directly, without ".."');
  const normal = typed === '~' ? '~' : posix.normalize(typed).replace(/\/+$/, '');
  if (normal === '' || normal === '/') refuse('is the whole filesystem', 'name the folder the agent needs, e.g. ~/notes');
  if (normal === '~' || normal === '~/.') {
    refuse('is your whole home folder (with its keys and Armorer\'s own state)',
      'name the folder inside your home the agent needs, e.g. ~/notes');
  }
  if (normal.split('/').includes('.')) refuse('contains "."', fix);
  const root = FORBIDDEN_ROOTS.find((r) => normal === r || normal.startsWith(`${r}/`));
  if (root) refuse(`is under ${root}; the sandbox provides its own ${root}`);
  return normal;
}
