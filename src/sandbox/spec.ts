/**
 * The backend-neutral description of one sandboxed process: what compiling a policy produces and
 * what every backend consumes. Paths are host paths, canonical and absolute; the sandbox sees each
 * mount at `target` (normally the same path as on the host).
 */
export type Mount =
  | { kind: 'ro' | 'rw'; source: string; target: string; why: string }
  | { kind: 'tmpfs'; target: string; sizeBytes?: number; why: string }
  /** A small file whose content Armorer writes (e.g. a filtered /etc/passwd). */
  | { kind: 'data'; target: string; content: string; mode: number; why: string }
  /** A symlink inside the sandbox (merged-/usr layouts: /bin -> usr/bin). */
  | { kind: 'symlink'; target: string; linkTo: string; why: string };

/** `rel` under the writable mount `root`; a trailing `/` in `rel` marks a directory. */
export interface ProtectedPath { root: string; rel: string }

export type LimitName = 'memoryBytes' | 'pids' | 'cpus' | 'fileSizeBytes' | 'openFiles' | 'timeoutSeconds';

export interface Limits {
  memoryBytes?: number;
  pids?: number;
  /** CPU quota in cores (1.5 = one and a half cores). */
  cpus?: number;
  fileSizeBytes?: number;
  openFiles?: number;
  /** Wall-clock limit; 0 or absent means none. */
  timeoutSeconds?: number;
}

/** Where each limit came from: a default may degrade loudly, an explicit request never does. */
export type LimitOrigin = 'default' | 'policy' | 'flag';

export interface SeccompOptions {
  /** socket(AF_UNIX) inside the sandbox. Agents use it for their own IPC; the netns is private. */
  allowUnixSockets: boolean;
}

export interface NetworkSpec {
  /**
   * `none`: an empty network namespace (loopback only). `proxy`: the namespace of a host-side
   * bridge whose only door is the egress proxy at 127.0.0.1:`proxyPort`.
   */
  mode: 'none' | 'proxy';
  /** Hosts the policy allows through the proxy. */
  allowHosts: { host: string; port?: number }[];
  proxyPort: number;
}

export interface SandboxSpec {
  command: string[];
  /** Host path of the workspace, canonical; mounted read-write at the same path. */
  workspace: string;
  cwd: string;
  /** HOME inside the sandbox. */
  home: string;
  /** Ordered: later mounts cover earlier ones. Does not include /proc and /dev (backend's job). */
  mounts: Mount[];
  /**
   * Paths that must stay read-only, or not be creatable, inside writable mounts
   * (`.git/hooks`, `.git/config`, ...), whether or not they exist yet.
   */
  protectedPaths: ProtectedPath[];
  env: Record<string, string>;
  network: NetworkSpec;
  limits: Limits;
  limitOrigins: Partial<Record<LimitName, LimitOrigin>>;
  seccomp: SeccompOptions;
}
