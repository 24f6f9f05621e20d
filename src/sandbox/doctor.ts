import type { BackendReport } from './guarantees.js';

/** Every backend, each guarantee from a live probe on this machine. */
export async function doctor(armorerHome: string, sandboxUser: string): Promise<BackendReport[]> {
  const { probeBwrap } = await import('./bwrap/probe.js');
  const bwrap = await probeBwrap(armorerHome, sandboxUser);
  return [
    { backend: 'linux-bwrap', isDefault: true, usable: bwrap.every((g) => g.status !== 'missing'), guarantees: bwrap },
    {
      backend: 'oci', isDefault: false, usable: false,
      guarantees: [{ id: 'backend', status: 'missing', detail: 'the Docker/Podman backend is not built in this version',
        fix: 'use linux-bwrap (the default)' }],
    },
    {
      backend: 'macos-seatbelt', isDefault: false, usable: false,
      guarantees: [{ id: 'backend', status: 'missing', detail: process.platform === 'darwin'
        ? 'the Seatbelt backend is not built in this version' : `not applicable on ${process.platform}`,
      fix: 'use linux-bwrap on Linux' }],
    },
  ];
}
