/**
 * Numbers the seccomp filter compares against, per architecture. Syscall numbers come from the
 * kernel's uapi headers (x86_64: asm/unistd_64.h; aarch64: asm-generic/unistd.h); the unit test
 * cross-checks them against the headers installed on the test machine.
 */

export type SeccompArch = 'x86_64' | 'aarch64';

/** AUDIT_ARCH_* from linux/audit.h: EM_* | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE. */
export const AUDIT_ARCH: Readonly<Record<SeccompArch, number>> = {
  x86_64: 0xc000003e,
  aarch64: 0xc00000b7,
};

/** x86_64 only: syscalls entered through the x32 ABI carry this bit in their number. */
export const X32_SYSCALL_BIT = 0x40000000;

/** [x86_64, aarch64]; null where the architecture has no such syscall. */
type Numbers = readonly [number | null, number | null];

/**
 * Denied with EPERM. Each is kernel attack surface or a way out of the sandbox that no agent
 * needs: async I/O that bypasses seccomp (io_uring), other processes' memory (ptrace,
 * process_vm_*), kernel programs and counters (bpf, perf), page-fault races (userfaultfd), the
 * shared kernel keyring, file handles that escape a bind mount, the mount API, kernel modules and
 * kexec, and host-wide state (swap, reboot, clocks, kernel log, accounting, quotas, tty hangup,
 * port I/O). unshare and clone stay allowed: bwrap's --disable-userns stops nested user
 * namespaces, and tools use unshare for harmless things.
 */
export const DENIED_SYSCALLS: Readonly<Record<string, Numbers>> = {
  io_uring_setup: [425, 425],
  io_uring_enter: [426, 426],
  io_uring_register: [427, 427],
  ptrace: [101, 117],
  process_vm_readv: [310, 270],
  process_vm_writev: [311, 271],
  // Reach into another process's fds or memory: ptrace-class powers by other names.
  pidfd_getfd: [438, 438],
  process_madvise: [440, 440],
  bpf: [321, 280],
  perf_event_open: [298, 241],
  userfaultfd: [323, 282],
  keyctl: [250, 219],
  add_key: [248, 217],
  request_key: [249, 218],
  open_by_handle_at: [304, 265],
  name_to_handle_at: [303, 264],
  mount: [165, 40],
  umount2: [166, 39],
  pivot_root: [155, 41],
  move_mount: [429, 429],
  open_tree: [428, 428],
  fsopen: [430, 430],
  fsmount: [432, 432],
  fsconfig: [431, 431],
  fspick: [433, 433],
  mount_setattr: [442, 442],
  kexec_load: [246, 104],
  kexec_file_load: [320, 294],
  init_module: [175, 105],
  finit_module: [313, 273],
  delete_module: [176, 106],
  swapon: [167, 224],
  swapoff: [168, 225],
  reboot: [169, 142],
  setns: [308, 268],
  acct: [163, 89],
  quotactl: [179, 60],
  quotactl_fd: [443, 443],
  lookup_dcookie: [212, 18],
  vhangup: [153, 58],
  iopl: [172, null],
  ioperm: [173, null],
  syslog: [103, 116],
  settimeofday: [164, 170],
  clock_settime: [227, 112],
  clock_adjtime: [305, 266],
  adjtimex: [159, 171],
  uselib: [134, null],
  nfsservctl: [180, 42],
};

/** Syscalls allowed or denied depending on an argument. */
export const ARG_CHECKED_SYSCALLS = {
  ioctl: [16, 29],
  socket: [41, 198],
} as const satisfies Readonly<Record<string, Numbers>>;

/** Column of an architecture in the tables above. */
export function archColumn(arch: SeccompArch): 0 | 1 {
  return arch === 'x86_64' ? 0 : 1;
}

/** From asm-generic/ioctls.h, the same on both architectures. */
export const IOCTL = {
  /** Pushes bytes into a terminal's input queue: typed commands in the user's shell. */
  TIOCSTI: 0x5412,
  /** Console control, including selection paste into the console. */
  TIOCLINUX: 0x541c,
} as const;

/** Address families denied whatever the policy; AF_UNIX is added when the policy says so. */
export const DENIED_FAMILIES: Readonly<Record<string, number>> = {
  AF_KEY: 15,
  AF_NETLINK: 16,
  AF_PACKET: 17,
  AF_BLUETOOTH: 31,
  AF_ALG: 38,
  AF_VSOCK: 40,
};

export const AF_UNIX = 1;
export const AF_INET = 2;
export const AF_INET6 = 10;

/** socket()'s type argument: the low 4 bits are the type, the rest are SOCK_* flags. */
export const SOCK_TYPE_MASK = 0xf;
export const SOCK_RAW = 3;
/** socket(AF_INET, SOCK_PACKET) is silently turned into an AF_PACKET socket by the kernel. */
export const SOCK_PACKET = 10;

/** The same numbers on x86_64 and aarch64. */
export const EPERM = 1;
export const EAFNOSUPPORT = 97;
