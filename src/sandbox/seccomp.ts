/**
 * The seccomp filter for the bubblewrap backend, as a classic BPF program that bwrap reads from
 * the fd given to `--seccomp FD`. Built here in TypeScript so that no native library is needed
 * and every rule is visible in one place.
 *
 * Errors: a denied syscall and a raw/packet socket get EPERM (what the kernel itself says to a
 * process without the capability); a denied address family gets EAFNOSUPPORT (what a kernel
 * without that family says, which programs already handle). A syscall from another ABI is a
 * bypass attempt and kills the process.
 */
import { ArmorerError } from '../core/errors.js';
import type { SeccompOptions } from './spec.js';
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  ARG_CHECKED_SYSCALLS,
  AUDIT_ARCH,
  DENIED_FAMILIES,
  DENIED_SYSCALLS,
  EAFNOSUPPORT,
  EPERM,
  IOCTL,
  SOCK_PACKET,
  SOCK_RAW,
  SOCK_TYPE_MASK,
  X32_SYSCALL_BIT,
  archColumn,
  type SeccompArch,
} from './seccomp-tables.js';

export type { SeccompArch } from './seccomp-tables.js';

export interface SeccompFilter {
  /** The program: struct sock_filter[], 8 bytes each, little-endian. */
  bytes: Buffer;
  arch: SeccompArch;
  /** Syscall names denied with EPERM on this architecture. */
  denied: string[];
  /** Address families socket() refuses with EAFNOSUPPORT. */
  deniedSocketFamilies: string[];
}

// Classic BPF opcodes (linux/filter.h) and seccomp return values (linux/seccomp.h).
const LD_W_ABS = 0x20; // BPF_LD | BPF_W | BPF_ABS
const JEQ_K = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const JGE_K = 0x35; // BPF_JMP | BPF_JGE | BPF_K
const AND_K = 0x54; // BPF_ALU | BPF_AND | BPF_K
const RET_K = 0x06; // BPF_RET | BPF_K
const RET_KILL_PROCESS = 0x80000000;
const RET_ERRNO = 0x00050000;
const RET_ALLOW = 0x7fff0000;
/** BPF_MAXINSNS: the kernel refuses longer classic programs. */
const MAX_INSNS = 4096;

// Offsets in struct seccomp_data. Arguments are u64; on little-endian the low 32 bits come
// first, and the kernel truncates int/unsigned-int arguments to them, so that is what we compare.
const NR = 0;
const ARCH = 4;
const argLow = (i: number): number => 16 + 8 * i;

/** A jump target: a label later in the program, or `next` (fall through). */
type Target = string;
const NEXT = '';

type Item =
  | { label: string }
  | { code: number; k: number; jt?: Target; jf?: Target };

/** One decoded struct sock_filter. */
export interface SockFilter {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

const ld = (offset: number): Item => ({ code: LD_W_ABS, k: offset });
const jeq = (k: number, jt: Target, jf: Target = NEXT): Item => ({ code: JEQ_K, k, jt, jf });
const jge = (k: number, jt: Target, jf: Target = NEXT): Item => ({ code: JGE_K, k, jt, jf });
const and = (k: number): Item => ({ code: AND_K, k });
const ret = (k: number): Item => ({ code: RET_K, k });
const label = (name: string): Item => ({ label: name });

/**
 * Builds the filter for `arch` (Node's names `x64`/`arm64`, or the kernel's `x86_64`/`aarch64`).
 * Throws ARMORER_E_ARCH for any other architecture and ARMORER_E_SECCOMP if the program it
 * assembled is not one the kernel would accept: it never returns a malformed filter.
 */
export function buildSeccompFilter(
  opts: SeccompOptions,
  arch: string = process.arch,
): SeccompFilter {
  const target = normaliseArch(arch);
  const col = archColumn(target);

  const denied = Object.entries(DENIED_SYSCALLS).flatMap(([name, nrs]) =>
    nrs[col] === null ? [] : [{ name, nr: nrs[col] }],
  );
  const families = Object.entries(DENIED_FAMILIES).map(([name, value]) => ({ name, value }));
  if (!opts.allowUnixSockets) families.push({ name: 'AF_UNIX', value: AF_UNIX });

  const program: Item[] = [
    // A filter is written for one syscall ABI; any other ABI's numbers mean different calls.
    ld(ARCH),
    jeq(AUDIT_ARCH[target], NEXT, 'kill'),
    ld(NR),
    // x32 shares the x86_64 audit arch but has its own syscall numbers.
    ...(target === 'x86_64' ? [jge(X32_SYSCALL_BIT, 'kill')] : []),
    ...denied.map(({ nr }) => jeq(nr, 'eperm')),
    jeq(ARG_CHECKED_SYSCALLS.ioctl[col], 'ioctl'),
    jeq(ARG_CHECKED_SYSCALLS.socket[col], 'socket'),
    ret(RET_ALLOW),

    // ioctl(fd, request): the kernel reads request as unsigned int, so high bits cannot hide it.
    label('ioctl'),
    ld(argLow(1)),
    jeq(IOCTL.TIOCSTI, 'eperm'),
    jeq(IOCTL.TIOCLINUX, 'eperm'),
    ret(RET_ALLOW),

    // socket(domain, type, protocol)
    label('socket'),
    // An allow list: INET, INET6 and (when allowed) UNIX. Every other family, including ones
    // added to kernels later, is refused; DENIED_FAMILIES only names the notable ones for reports.
    ld(argLow(0)),
    jeq(AF_INET, 'inet'),
    jeq(AF_INET6, 'inet'),
    ...(opts.allowUnixSockets ? [jeq(AF_UNIX, 'allow')] : []),
    ret(RET_ERRNO | EAFNOSUPPORT),
    label('allow'),
    ret(RET_ALLOW),

    // Raw and packet sockets forge traffic below TCP; SOCK_* flags live above the type bits.
    label('inet'),
    ld(argLow(1)),
    and(SOCK_TYPE_MASK),
    jeq(SOCK_RAW, 'eperm'),
    jeq(SOCK_PACKET, 'eperm'),
    ret(RET_ALLOW),

    // Shared exits, last, because classic BPF only jumps forward.
    label('kill'),
    ret(RET_KILL_PROCESS),
    label('eperm'),
    ret(RET_ERRNO | EPERM),
    label('eafnosupport'),
    ret(RET_ERRNO | EAFNOSUPPORT),
  ];

  const insns = assemble(program);
  validateProgram(insns);
  return {
    bytes: encode(insns),
    arch: target,
    denied: denied.map((d) => d.name),
    deniedSocketFamilies: families.map((f) => f.name),
  };
}

function normaliseArch(arch: string): SeccompArch {
  if (arch === 'x64' || arch === 'x86_64') return 'x86_64';
  if (arch === 'arm64' || arch === 'aarch64') return 'aarch64';
  throw new ArmorerError(
    'ARMORER_E_ARCH',
    `the seccomp filter has no syscall table for the CPU architecture '${arch}'`,
    'run Armorer on x86_64 or aarch64 Linux',
  );
}

/** Resolves labels to the relative jump offsets classic BPF uses (forward only, 0..255). */
function assemble(items: readonly Item[]): SockFilter[] {
  const labels = new Map<string, number>();
  let count = 0;
  for (const item of items) {
    if ('label' in item) {
      if (labels.has(item.label)) fail(`label '${item.label}' is defined twice`);
      labels.set(item.label, count);
    } else {
      count += 1;
    }
  }

  const insns: SockFilter[] = [];
  for (const item of items) {
    if ('label' in item) continue;
    const at = insns.length;
    const offset = (t: Target | undefined): number => {
      if (t === undefined || t === NEXT) return 0;
      const dest = labels.get(t);
      if (dest === undefined) fail(`jump to undefined label '${t}'`);
      return dest - (at + 1);
    };
    insns.push({ code: item.code, jt: offset(item.jt), jf: offset(item.jf), k: item.k >>> 0 });
  }
  return insns;
}

/**
 * The checks of the kernel's classic BPF verifier that an assembler could get wrong; throws
 * ARMORER_E_SECCOMP. Exported so that tests can show a bad program is refused.
 */
export function validateProgram(insns: readonly SockFilter[]): void {
  if (insns.length === 0 || insns.length > MAX_INSNS) {
    fail(`the program has ${insns.length} instructions; the kernel accepts 1 to ${MAX_INSNS}`);
  }
  insns.forEach((insn, i) => {
    const isJump = insn.code === JEQ_K || insn.code === JGE_K;
    for (const off of [insn.jt, insn.jf]) {
      if (!Number.isInteger(off) || off < 0 || off > 0xff) {
        fail(`instruction ${i} jumps by ${off}, which does not fit in 0..255`);
      }
      if (!isJump && off !== 0) fail(`instruction ${i} is not a jump but has a jump offset`);
      if (isJump && i + 1 + off >= insns.length) {
        fail(`instruction ${i} jumps past the end of the program`);
      }
    }
    if (!Number.isInteger(insn.k) || insn.k < 0 || insn.k > 0xffffffff) {
      fail(`instruction ${i} has a constant ${insn.k} that does not fit in 32 bits`);
    }
    if (insn.code === LD_W_ABS && (insn.k % 4 !== 0 || insn.k >= 64)) {
      fail(`instruction ${i} loads outside struct seccomp_data (offset ${insn.k})`);
    }
  });
  if (insns[insns.length - 1]?.code !== RET_K) fail('the program does not end with a return');
}

function encode(insns: readonly SockFilter[]): Buffer {
  const buf = Buffer.alloc(insns.length * 8);
  insns.forEach((insn, i) => {
    buf.writeUInt16LE(insn.code, i * 8);
    buf.writeUInt8(insn.jt, i * 8 + 2);
    buf.writeUInt8(insn.jf, i * 8 + 3);
    buf.writeUInt32LE(insn.k, i * 8 + 4);
  });
  return buf;
}

function fail(detail: string): never {
  throw new ArmorerError(
    'ARMORER_E_SECCOMP',
    `the seccomp filter is malformed: ${detail}`,
    'this is a bug in Armorer: please report it, with the Armorer version and the CPU architecture',
  );
}
