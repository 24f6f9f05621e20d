import { lstatSync, readlinkSync } from 'node:fs';
import type { Mount } from '../sandbox/spec.js';

/**
 * What of the host's system every sandbox sees: read-only program directories and a filtered /etc.
 * Nothing from /home, /root, /var, /srv, /opt or /mnt is visible unless a grant names it.
 */
const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

/**
 * /etc entries programs need to run (dynamic linker, TLS roots, name service, locale, time zone).
 * Left out on purpose: shadow, gshadow, ssh host keys, sudoers, machine-id, npmrc, gitconfig, and
 * the real passwd/group (replaced by synthetic ones that name only the sandbox user).
 */
const ETC_ENTRIES = [
  'alternatives', 'ca-certificates', 'ca-certificates.conf', 'ssl', 'pki', 'crypto-policies',
  'ld.so.cache', 'ld.so.conf', 'ld.so.conf.d', 'localtime', 'timezone', 'nsswitch.conf',
  'host.conf', 'hosts', 'gai.conf', 'protocols', 'services', 'mime.types', 'os-release',
  'debian_version', 'lsb-release', 'inputrc', 'magic', 'magic.mime', 'locale.alias', 'terminfo',
];

const WHY_PROGRAMS = 'system programs and libraries';
const WHY_CONFIG = 'system configuration';

/** True for the read-only system mounts every sandbox gets (not something a grant asked for). */
export function isSystemMount(m: Mount): boolean {
  return m.why === WHY_PROGRAMS || m.why === WHY_CONFIG;
}

export const SANDBOX_UID = 1000;
export const SANDBOX_GID = 1000;
export const SANDBOX_USER = 'agent';
export const SANDBOX_HOME = `/home/${SANDBOX_USER}`;

/** `tmpfsBytes` caps each private tmpfs: they live in memory. */
export function systemMounts(tmpfsBytes: number): Mount[] {
  const mounts: Mount[] = [];
  for (const dir of SYSTEM_DIRS) {
    const st = lstatSync(dir, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isSymbolicLink()) {
      mounts.push({ kind: 'symlink', target: dir, linkTo: readlinkSync(dir), why: 'system layout' });
    } else if (st.isDirectory()) {
      mounts.push({ kind: 'ro', source: dir, target: dir, why: WHY_PROGRAMS });
    }
  }
  for (const name of ETC_ENTRIES) {
    const path = `/etc/${name}`;
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isSymbolicLink()) {
      mounts.push({ kind: 'symlink', target: path, linkTo: readlinkSync(path), why: WHY_CONFIG });
    } else {
      mounts.push({ kind: 'ro', source: path, target: path, why: WHY_CONFIG });
    }
  }
  mounts.push(
    { kind: 'data', target: '/etc/passwd', mode: 0o444, why: 'names only the sandbox user',
      content: `root:x:0:0:root:/root:/usr/sbin/nologin\n${SANDBOX_USER}:x:${SANDBOX_UID}:${SANDBOX_GID}:Armorer sandbox:${SANDBOX_HOME}:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n` },
    { kind: 'data', target: '/etc/group', mode: 0o444, why: 'names only the sandbox group',
      content: `root:x:0:\n${SANDBOX_USER}:x:${SANDBOX_GID}:\nnogroup:x:65534:\n` },
    { kind: 'data', target: '/etc/hostname', mode: 0o444, why: 'the sandbox has its own hostname',
      content: 'sandbox\n' },
    { kind: 'tmpfs', target: '/dev/shm', sizeBytes: tmpfsBytes, why: 'private shared memory, capped' },
    { kind: 'tmpfs', target: '/tmp', sizeBytes: tmpfsBytes, why: 'private /tmp, gone at exit' },
    { kind: 'tmpfs', target: '/var/tmp', sizeBytes: tmpfsBytes, why: 'private /var/tmp, gone at exit' },
    { kind: 'tmpfs', target: SANDBOX_HOME, sizeBytes: tmpfsBytes, why: 'private HOME, gone at exit' },
  );
  return mounts;
}

