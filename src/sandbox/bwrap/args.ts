import { SANDBOX_GID, SANDBOX_UID } from '../../policy/system-view.js';
import type { Mount, SandboxSpec } from '../spec.js';
import type { ProtectAction } from './protect.js';

/** File descriptors the child receives; numbering follows the spawn stdio array. */
export interface FdPlan {
  seccomp: number;
  info: number;
  /** The command's first act is to write one byte here: after it, every exit is the command's own. */
  ready: number;
  /** One fd per `data` mount and per empty-file placeholder, in the order of `dataSources`. */
  firstData: number;
}

/** Content bwrap reads from an fd, in the order the fds are numbered. */
export function dataSources(spec: SandboxSpec, protect: ProtectAction[]): string[] {
  return [
    ...spec.mounts.filter((m): m is Extract<Mount, { kind: 'data' }> => m.kind === 'data').map((m) => m.content),
    ...protect.filter((a) => a.kind === 'empty-file').map(() => ''),
  ];
}

/** The bwrap command line for a spec. Pure: no file system access, unit-tested on its own. */
export function bwrapArgs(spec: SandboxSpec, protect: ProtectAction[], fds: FdPlan): string[] {
  const a: string[] = [
    '--unshare-user', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try',
    // With egress, the network namespace is the bridge's, entered before bwrap starts.
    ...(spec.network.mode === 'none' ? ['--unshare-net'] : []),
    '--disable-userns', '--uid', String(SANDBOX_UID), '--gid', String(SANDBOX_GID),
    '--hostname', 'sandbox', '--die-with-parent', '--new-session', '--cap-drop', 'ALL',
    '--info-fd', String(fds.info), '--seccomp', String(fds.seccomp),
    '--proc', '/proc', '--dev', '/dev',
  ];
  let nextFd = fds.firstData;
  for (const m of spec.mounts) {
    switch (m.kind) {
      case 'ro': a.push('--ro-bind', m.source, m.target); break;
      case 'rw': a.push('--bind', m.source, m.target); break;
      case 'tmpfs':
        if (m.sizeBytes !== undefined) a.push('--size', String(m.sizeBytes));
        a.push('--perms', m.target === spec.home ? '0700' : '1777', '--tmpfs', m.target);
        break;
      case 'data': a.push('--perms', m.mode.toString(8).padStart(4, '0'), '--ro-bind-data', String(nextFd++), m.target); break;
      case 'symlink': a.push('--symlink', m.linkTo, m.target); break;
    }
  }
  for (const p of protect) {
    if (p.kind === 'pin') a.push('--bind', p.path, p.path);
    else if (p.kind === 'bind-ro') a.push('--ro-bind', p.path, p.path);
    else if (p.kind === 'empty-dir') a.push('--perms', '0555', '--tmpfs', p.path, '--remount-ro', p.path);
    else a.push('--perms', '0444', '--ro-bind-data', String(nextFd++), p.path);
  }
  // Nothing may be created outside the mounts above: bwrap's root and /dev are tmpfs otherwise
  // writable (and, without a cgroup, as large as half the host's memory).
  a.push('--remount-ro', '/dev', '--remount-ro', '/');
  a.push('--clearenv');
  for (const [k, v] of Object.entries(spec.env)) a.push('--setenv', k, v);
  a.push('--chdir', spec.cwd, '--', ...readyWrapper(fds.ready), ...spec.command);
  return a;
}

/**
 * `sh` reports "started" on the ready fd, closes it, then becomes the command. Set-up failures
 * happen before this byte, so the supervisor can tell bwrap's errors from the command's.
 */
function readyWrapper(fd: number): string[] {
  if (!Number.isInteger(fd) || fd < 3 || fd > 9) throw new RangeError('the ready fd must be 3..9 for sh redirections');
  return ['/bin/sh', '-c', `printf . >&${fd}; exec ${fd}>&-; exec "$@"`, 'sh'];
}
