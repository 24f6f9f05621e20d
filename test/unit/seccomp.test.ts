/**
 * The seccomp filter, proved against the real kernel: each probe runs twice inside bubblewrap,
 * once without the filter (the kernel's own answer) and once with it, so an EPERM is shown to
 * come from the filter and not from a missing capability. The probe's syscall numbers are written
 * here independently of src/sandbox/seccomp-tables.ts, so a wrong number there fails a test.
 * A small BPF interpreter covers aarch64, which this machine cannot run.
 */
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSeccompFilter, validateProgram } from '../../src/sandbox/seccomp.js';
import { ARG_CHECKED_SYSCALLS, DENIED_SYSCALLS } from '../../src/sandbox/seccomp-tables.js';
import { isArmorerError } from '../../src/core/errors.js';

const BWRAP = '/usr/bin/bwrap';
const PYTHON = '/usr/bin/python3';
const EPERM = osConstants.errno.EPERM;
const EAFNOSUPPORT = osConstants.errno.EAFNOSUPPORT;
const SIGSYS_EXIT = 128 + osConstants.signals.SIGSYS; // bwrap exits 128+N when its child dies of N
const HOST_ARCH = process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : '';

/** What the filter must deny with EPERM, per architecture (aarch64 has no iopl/ioperm/uselib). */
const EXPECTED_DENIED = [
  'io_uring_setup', 'io_uring_enter', 'io_uring_register', 'ptrace', 'process_vm_readv',
  'process_vm_writev', 'pidfd_getfd', 'process_madvise', 'bpf', 'perf_event_open', 'userfaultfd', 'keyctl', 'add_key', 'request_key',
  'open_by_handle_at', 'name_to_handle_at', 'mount', 'umount2', 'pivot_root', 'move_mount',
  'open_tree', 'fsopen', 'fsmount', 'fsconfig', 'fspick', 'mount_setattr', 'kexec_load',
  'kexec_file_load', 'init_module', 'finit_module', 'delete_module', 'swapon', 'swapoff', 'reboot',
  'setns', 'acct', 'quotactl', 'quotactl_fd', 'lookup_dcookie', 'vhangup', 'iopl', 'ioperm',
  'syslog', 'settimeofday', 'clock_settime', 'clock_adjtime', 'adjtimex', 'uselib', 'nfsservctl',
];
const X86_ONLY = new Set(['iopl', 'ioperm', 'uselib']);

/**
 * Runs every probe and prints one JSON object of errnos (0 = the call succeeded). Arguments are
 * chosen so the kernel would fail the call some other way (bad fd, bad pointer, bad command): a
 * probe must be harmless when it runs without the filter, as root.
 */
const PROBE = String.raw`
import ctypes, json, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
NR = {
  'x86_64': dict(io_uring_setup=425, io_uring_enter=426, io_uring_register=427, ptrace=101,
    process_vm_readv=310, process_vm_writev=311, pidfd_getfd=438, process_madvise=440, bpf=321, perf_event_open=298, userfaultfd=323,
    keyctl=250, add_key=248, request_key=249, open_by_handle_at=304, name_to_handle_at=303,
    mount=165, umount2=166, pivot_root=155, move_mount=429, open_tree=428, fsopen=430, fsmount=432,
    fsconfig=431, fspick=433, mount_setattr=442, kexec_load=246, kexec_file_load=320,
    init_module=175, finit_module=313, delete_module=176, swapon=167, swapoff=168, reboot=169,
    setns=308, acct=163, quotactl=179, quotactl_fd=443, lookup_dcookie=212, vhangup=153, iopl=172, ioperm=173,
    syslog=103, settimeofday=164, clock_settime=227, clock_adjtime=305, adjtimex=159, uselib=134,
    nfsservctl=180, ioctl=16, socket=41, unshare=272, personality=135, getpid=39),
  'aarch64': dict(io_uring_setup=425, io_uring_enter=426, io_uring_register=427, ptrace=117,
    process_vm_readv=270, process_vm_writev=271, pidfd_getfd=438, process_madvise=440, bpf=280, perf_event_open=241, userfaultfd=282,
    keyctl=219, add_key=217, request_key=218, open_by_handle_at=265, name_to_handle_at=264,
    mount=40, umount2=39, pivot_root=41, move_mount=429, open_tree=428, fsopen=430, fsmount=432,
    fsconfig=431, fspick=433, mount_setattr=442, kexec_load=104, kexec_file_load=294,
    init_module=105, finit_module=273, delete_module=106, swapon=224, swapoff=225, reboot=142,
    setns=268, acct=89, quotactl=60, quotactl_fd=443, lookup_dcookie=18, vhangup=58, syslog=116,
    settimeofday=170, clock_settime=112, clock_adjtime=266, adjtimex=171, nfsservctl=42,
    ioctl=29, socket=198, unshare=97, personality=92, getpid=172),
}[os.uname().machine]

def call(name, *args):
    ctypes.set_errno(0)
    r = libc.syscall(ctypes.c_long(NR[name]), *[ctypes.c_long(a) for a in args])
    return (r, ctypes.get_errno() if r == -1 else 0)

def err(name, *args):
    return call(name, *args)[1]

def sock(domain, type_, proto=0):
    r, e = call('socket', domain, type_, proto)
    if r >= 0: os.close(r)
    return e

BAD = 1  # a pointer the kernel cannot read: EFAULT if the call gets that far
NOPID = 999999
syscalls = dict(
  io_uring_setup=lambda: err('io_uring_setup', 0, 0),
  io_uring_enter=lambda: err('io_uring_enter', -1, 0, 0, 0, 0, 0),
  io_uring_register=lambda: err('io_uring_register', -1, 0, 0, 0),
  ptrace=lambda: err('ptrace', 16, NOPID, 0, 0),  # PTRACE_ATTACH to no process
  process_vm_readv=lambda: err('process_vm_readv', NOPID, BAD, 1, BAD, 1, 0),
  process_vm_writev=lambda: err('process_vm_writev', NOPID, BAD, 1, BAD, 1, 0),
  pidfd_getfd=lambda: err('pidfd_getfd', -1, 0, 0),  # bad pidfd: EBADF without the filter
  process_madvise=lambda: err('process_madvise', -1, BAD, 1, 0, 0),
  bpf=lambda: err('bpf', 9999, 0, 0),
  perf_event_open=lambda: err('perf_event_open', BAD, 0, -1, -1, 0),
  userfaultfd=lambda: err('userfaultfd', 0x7fffffff),
  keyctl=lambda: err('keyctl', 9999),
  add_key=lambda: err('add_key', BAD, BAD, 0, 0, 0),
  request_key=lambda: err('request_key', BAD, BAD, 0, 0),
  open_by_handle_at=lambda: err('open_by_handle_at', -1, BAD, 0),
  name_to_handle_at=lambda: err('name_to_handle_at', -1, BAD, BAD, BAD, 0),
  mount=lambda: err('mount', BAD, BAD, BAD, 0, 0),
  umount2=lambda: err('umount2', BAD, 0),
  pivot_root=lambda: err('pivot_root', BAD, BAD),
  move_mount=lambda: err('move_mount', -1, BAD, -1, BAD, 0),
  open_tree=lambda: err('open_tree', -1, BAD, 0),
  fsopen=lambda: err('fsopen', BAD, 0),
  fsmount=lambda: err('fsmount', -1, 0, 0),
  fsconfig=lambda: err('fsconfig', -1, 0, 0, 0, 0),
  fspick=lambda: err('fspick', -1, BAD, 0),
  mount_setattr=lambda: err('mount_setattr', -1, BAD, 0, BAD, 0),
  kexec_load=lambda: err('kexec_load', 0, 0, 0, 0xdead0000),
  kexec_file_load=lambda: err('kexec_file_load', -1, -1, 0, 0, 0xdead0000),
  init_module=lambda: err('init_module', BAD, 0, BAD),
  finit_module=lambda: err('finit_module', -1, BAD, 0),
  delete_module=lambda: err('delete_module', BAD, 0),
  swapon=lambda: err('swapon', BAD, 0),
  swapoff=lambda: err('swapoff', BAD),
  reboot=lambda: err('reboot', 0, 0, 0, 0),  # wrong magic numbers
  setns=lambda: err('setns', -1, 0),
  acct=lambda: err('acct', BAD),  # not NULL: acct(NULL) would switch accounting off
  quotactl=lambda: err('quotactl', 0, BAD, 0, 0),
  quotactl_fd=lambda: err('quotactl_fd', -1, 0, 0, 0),
  lookup_dcookie=lambda: err('lookup_dcookie', 0, 0, 0),
  vhangup=lambda: err('vhangup'),  # harmless: bwrap --new-session leaves no controlling tty
  iopl=lambda: err('iopl', 99),
  ioperm=lambda: err('ioperm', 0xffffffff, 1, 1),
  syslog=lambda: err('syslog', 9999, 0, 0),
  settimeofday=lambda: err('settimeofday', BAD, 0),
  clock_settime=lambda: err('clock_settime', 9999, BAD),
  clock_adjtime=lambda: err('clock_adjtime', 9999, BAD),
  adjtimex=lambda: err('adjtimex', BAD),
  uselib=lambda: err('uselib', BAD),
  nfsservctl=lambda: err('nfsservctl', 0, 0, 0),
)

def loopback_tcp():
    import socket
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(('127.0.0.1', 0)); srv.listen(1); srv.settimeout(5)
    cli = socket.create_connection(srv.getsockname(), timeout=5)
    conn, _ = srv.accept(); cli.sendall(b'ok'); got = conn.recv(2)
    for s in (conn, cli, srv): s.close()
    return 0 if got == b'ok' else -1

def fork_child():
    pid = os.fork()
    if pid == 0: os._exit(7)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) - 7

def ioctl_pipe():
    r, w = os.pipe(); n = ctypes.c_int(-1)
    e = err('ioctl', r, 0x541B, ctypes.addressof(n))  # FIONREAD
    os.close(r); os.close(w)
    return e

c = ctypes.c_char(b'x')
HIGH = 1 << 32  # bits the kernel drops when it reads an int argument
others = dict(
  tiocsti=lambda: err('ioctl', 0, 0x5412, ctypes.addressof(c)),
  tiocsti_high_bits=lambda: err('ioctl', 0, HIGH | 0x5412, ctypes.addressof(c)),
  tioclinux=lambda: err('ioctl', 0, 0x541C, ctypes.addressof(c)),
  fionread=ioctl_pipe,
  af_netlink=lambda: sock(16, 3, 0),
  af_netlink_high_bits=lambda: sock(HIGH | 16, 3, 0),
  af_packet=lambda: sock(17, 3, 0),
  af_key=lambda: sock(15, 3, 2),
  af_bluetooth=lambda: sock(31, 3, 0),
  af_alg=lambda: sock(38, 5, 0),
  af_vsock=lambda: sock(40, 1, 0),
  af_unix=lambda: sock(1, 1, 0),
  af_inet_stream=lambda: sock(2, 1, 0),
  af_inet_dgram=lambda: sock(2, 2, 0),
  af_inet6_stream=lambda: sock(10, 1, 0),
  af_inet_raw=lambda: sock(2, 3, 1),
  af_inet_raw_flags=lambda: sock(2, 3 | 0o4000 | 0o2000000, 1),  # SOCK_NONBLOCK | SOCK_CLOEXEC
  af_inet6_raw=lambda: sock(10, 3, 58),
  af_inet_packet=lambda: sock(2, 10, 0),
  loopback_tcp=loopback_tcp,
  fork=fork_child,
  unshare=lambda: err('unshare', 0),
  personality=lambda: err('personality', 0xffffffff),
)

status = open('/proc/self/status').read()
seccomp = [l.split(':', 1)[1].strip() for l in status.splitlines() if l.startswith('Seccomp:')]
out = dict(syscalls={k: f() for k, f in syscalls.items() if k in NR},
           others={k: f() for k, f in others.items()}, seccomp=seccomp[0] if seccomp else None)
print(json.dumps(out))
`;

interface RunResult { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }
interface ProbeOutput { syscalls: Record<string, number>; others: Record<string, number>; seccomp: string | null }

/**
 * As root, the probes run without a user namespace: in one, the kernel itself answers EPERM to
 * swapon, acct, syslog... (they need capabilities in the initial namespace), and could not tell
 * the filter's EPERM from its own. Every probe is harmless as root (see PROBE).
 */
const IS_ROOT = process.getuid?.() === 0;
const NAMESPACES = IS_ROOT
  ? ['--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-net', '--unshare-cgroup-try']
  : ['--unshare-all'];

/** Runs argv in bubblewrap, with `filter` on fd 3 when given; killed after 30 s. */
function runInBwrap(filter: Buffer | null, argv: string[], extra: string[] = []): Promise<RunResult> {
  const args = [
    ...NAMESPACES, '--die-with-parent', '--new-session', '--clearenv', '--setenv', 'PATH', '/usr/bin',
    '--ro-bind', '/usr', '/usr', '--symlink', 'usr/lib', '/lib', '--symlink', 'usr/lib64', '/lib64',
    '--symlink', 'usr/bin', '/bin', '--proc', '/proc', '--dev', '/dev',
    ...extra, ...(filter ? ['--seccomp', '3'] : []), ...argv,
  ];
  const child = spawn(BWRAP, args, { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
  const fd3 = child.stdio[3] as NodeJS.WritableStream;
  fd3.on('error', () => {}); // bwrap may exit before reading; its exit status tells why
  fd3.end(filter ?? Buffer.alloc(0));
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

async function probe(filter: Buffer | null): Promise<ProbeOutput> {
  const r = await runInBwrap(filter, [PYTHON, '-c', PROBE]);
  assert.equal(r.code, 0, `probe failed (code ${r.code}, signal ${r.signal}): ${r.stderr}`);
  return JSON.parse(r.stdout) as ProbeOutput;
}

const canRunKernelTests = process.platform === 'linux' && HOST_ARCH !== '' &&
  existsSync(BWRAP) && existsSync(PYTHON);

describe('seccomp filter in bubblewrap', { skip: !canRunKernelTests && 'needs Linux, bwrap and python3' }, () => {
  let control: ProbeOutput; // no filter: the kernel's own answers
  let strict: ProbeOutput; // allowUnixSockets: false
  let withUnix: ProbeOutput; // allowUnixSockets: true

  before(async () => {
    [control, strict, withUnix] = await Promise.all([
      probe(null),
      probe(buildSeccompFilter({ allowUnixSockets: false }).bytes),
      probe(buildSeccompFilter({ allowUnixSockets: true }).bytes),
    ]);
  });

  it('installs a seccomp filter (Seccomp: 2 in /proc/self/status)', () => {
    assert.equal(control.seccomp, '0');
    assert.equal(strict.seccomp, '2');
    assert.equal(withUnix.seccomp, '2');
  });

  const arch = HOST_ARCH === 'aarch64' ? 'aarch64' : 'x86_64';
  for (const name of EXPECTED_DENIED) {
    if (arch === 'aarch64' && X86_ONLY.has(name)) continue;
    it(`denies ${name} with EPERM inside bubblewrap`, (t) => {
      kernelWouldNotRefuse(t, control.syscalls[name], name);
      assert.equal(strict.syscalls[name], EPERM);
      assert.equal(withUnix.syscalls[name], EPERM);
    });
  }

  it('denies ioctl TIOCSTI and TIOCLINUX with EPERM, high bits or not', () => {
    for (const p of ['tiocsti', 'tiocsti_high_bits', 'tioclinux']) {
      assert.notEqual(control.others[p], EPERM, p);
      assert.equal(strict.others[p], EPERM, p);
    }
  });

  it('leaves other ioctls alone', () => {
    assert.equal(control.others.fionread, 0);
    assert.equal(strict.others.fionread, 0);
  });

  const families = ['af_netlink', 'af_netlink_high_bits', 'af_packet', 'af_key', 'af_bluetooth', 'af_alg', 'af_vsock'];
  for (const p of families) {
    it(`denies socket(${p.replace('_high_bits', ', high bits set')}) with EAFNOSUPPORT`, (t) => {
      assert.equal(strict.others[p], EAFNOSUPPORT);
      assert.equal(withUnix.others[p], EAFNOSUPPORT);
      if (control.others[p] === EAFNOSUPPORT) t.diagnostic(`this kernel has no ${p} either`);
    });
  }

  it('the kernel would have created netlink and packet sockets without the filter', (t) => {
    assert.equal(control.others.af_netlink, 0);
    assert.equal(control.others.af_netlink_high_bits, 0);
    kernelWouldNotRefuse(t, control.others.af_packet, 'socket(AF_PACKET)');
  });

  it('denies raw and packet IPv4/IPv6 sockets with EPERM', (t) => {
    for (const p of ['af_inet_raw', 'af_inet_raw_flags', 'af_inet6_raw', 'af_inet_packet']) {
      kernelWouldNotRefuse(t, control.others[p], p);
      assert.equal(strict.others[p], EPERM, p);
      assert.equal(withUnix.others[p], EPERM, p);
    }
  });

  it('denies socket(AF_UNIX) when allowUnixSockets is false', () => {
    assert.equal(control.others.af_unix, 0);
    assert.equal(strict.others.af_unix, EAFNOSUPPORT);
  });

  it('allows socket(AF_UNIX) when allowUnixSockets is true', () => {
    assert.equal(withUnix.others.af_unix, 0);
  });

  it('allows TCP and UDP sockets and a TCP connection over loopback', () => {
    for (const out of [strict, withUnix]) {
      assert.equal(out.others.af_inet_stream, 0);
      assert.equal(out.others.af_inet_dgram, 0);
      assert.equal(out.others.af_inet6_stream, control.others.af_inet6_stream);
      assert.equal(out.others.loopback_tcp, 0);
    }
  });

  it('leaves fork, unshare and personality allowed', () => {
    for (const p of ['fork', 'unshare', 'personality']) {
      assert.equal(control.others[p], 0, `${p} without filter`);
      assert.equal(strict.others[p], 0, p);
    }
  });

  it('kills a process that uses the x32 syscall ABI', { skip: arch !== 'x86_64' && 'x86_64 only' }, async () => {
    const py = 'import ctypes; ctypes.CDLL(None).syscall(0x40000000 | 39); print("survived")';
    const r = await runInBwrap(buildSeccompFilter({ allowUnixSockets: true }).bytes, [PYTHON, '-c', py]);
    assert.equal(r.code, SIGSYS_EXIT, `stdout: ${r.stdout} stderr: ${r.stderr}`);
    assert.equal(r.stdout, '');
  });

  describe('a syscall from the 32-bit ABI (int 0x80)', { skip: (arch !== 'x86_64' || !hasGcc()) && 'needs x86_64 and gcc' }, () => {
    let dir = '';
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'armorer-seccomp-'));
      writeFileSync(join(dir, 'i386.c'), '#include <stdio.h>\nint main(void){long r;' +
        '__asm__ volatile("int $0x80":"=a"(r):"a"(20L):"memory");printf("%ld\\n",r);return 0;}\n');
      const cc = spawnSync('gcc', ['-O0', '-o', join(dir, 'i386'), join(dir, 'i386.c')], { timeout: 60_000 });
      assert.equal(cc.status, 0, cc.stderr?.toString());
    });
    after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

    it('kills the process', async (t) => {
      const bind = ['--ro-bind', dir, '/probe'];
      const plain = await runInBwrap(null, ['/probe/i386'], bind);
      if (plain.code !== 0 || !(Number(plain.stdout) > 0)) {
        t.skip('this kernel has no 32-bit syscall emulation');
        return;
      }
      const r = await runInBwrap(buildSeccompFilter({ allowUnixSockets: true }).bytes, ['/probe/i386'], bind);
      assert.equal(r.code, SIGSYS_EXIT);
      assert.equal(r.stdout, '');
    });
  });
});

/**
 * The unfiltered run must not already get EPERM, or the filter's EPERM proves nothing. Without
 * root, bwrap drops every capability and the kernel refuses some probes itself: say so.
 */
function kernelWouldNotRefuse(t: TestContext, errno: number | undefined, what: string): void {
  if (errno === EPERM && !IS_ROOT) {
    t.diagnostic(`not root: the kernel refuses ${what} too, so only the result is checked`);
    return;
  }
  assert.notEqual(errno, EPERM, `without the filter the kernel already refuses ${what}: the probe proves nothing`);
}

function hasGcc(): boolean {
  return spawnSync('gcc', ['--version'], { timeout: 10_000 }).status === 0;
}

// ---- pure checks, no kernel -------------------------------------------------------------------

/** Classic BPF, just the instructions the filter uses; forward jumps only, so it terminates. */
function runFilter(prog: Buffer, nr: number, auditArch: number, args: bigint[] = []): number {
  const data = Buffer.alloc(64);
  data.writeInt32LE(nr | 0, 0);
  data.writeUInt32LE(auditArch, 4);
  args.forEach((a, i) => data.writeBigUInt64LE(BigInt.asUintN(64, a), 16 + 8 * i));
  let acc = 0;
  for (let pc = 0; pc < prog.length / 8; pc++) {
    const code = prog.readUInt16LE(pc * 8);
    const jt = prog.readUInt8(pc * 8 + 2);
    const jf = prog.readUInt8(pc * 8 + 3);
    const k = prog.readUInt32LE(pc * 8 + 4);
    if (code === 0x20) acc = data.readUInt32LE(k);
    else if (code === 0x54) acc = (acc & k) >>> 0;
    else if (code === 0x15) pc += acc === k ? jt : jf;
    else if (code === 0x35) pc += acc >= k ? jt : jf;
    else if (code === 0x06) return k;
    else throw new Error(`unexpected opcode ${code.toString(16)} at ${pc}`);
  }
  throw new Error('fell off the end of the program');
}

const ALLOW = 0x7fff0000;
const KILL = 0x80000000;
const ERRNO = (e: number): number => 0x00050000 | e;
const AUDIT = { x86_64: 0xc000003e, aarch64: 0xc00000b7, i386: 0x40000003 };

describe('buildSeccompFilter', () => {
  it('emits whole 8-byte instructions, at most 4096 of them', () => {
    for (const a of ['x64', 'arm64']) {
      const { bytes } = buildSeccompFilter({ allowUnixSockets: false }, a);
      assert.equal(bytes.length % 8, 0);
      assert.ok(bytes.length / 8 > 0 && bytes.length / 8 <= 4096);
    }
  });

  it('loads seccomp_data.arch first', () => {
    const { bytes } = buildSeccompFilter({ allowUnixSockets: false }, 'x64');
    assert.equal(bytes.readUInt16LE(0), 0x20); // BPF_LD | BPF_W | BPF_ABS
    assert.equal(bytes.readUInt32LE(4), 4); // offsetof(struct seccomp_data, arch)
  });

  it('accepts Node and kernel architecture names', () => {
    assert.equal(buildSeccompFilter({ allowUnixSockets: true }, 'x64').arch, 'x86_64');
    assert.equal(buildSeccompFilter({ allowUnixSockets: true }, 'x86_64').arch, 'x86_64');
    assert.equal(buildSeccompFilter({ allowUnixSockets: true }, 'arm64').arch, 'aarch64');
    assert.equal(buildSeccompFilter({ allowUnixSockets: true }, 'aarch64').arch, 'aarch64');
  });

  it('refuses an unknown architecture with ARMORER_E_ARCH', () => {
    for (const a of ['ia32', 'riscv64', 's390x', '']) {
      assert.throws(() => buildSeccompFilter({ allowUnixSockets: true }, a),
        (e: unknown) => isArmorerError(e) && e.code === 'ARMORER_E_ARCH' && e.fix.length > 0);
    }
  });

  it('refuses a malformed program with ARMORER_E_SECCOMP', () => {
    const ret = { code: 0x06, jt: 0, jf: 0, k: ALLOW };
    const bad = [
      [],
      [{ code: 0x15, jt: 300, jf: 0, k: 1 }, ret],
      [{ code: 0x15, jt: 5, jf: 0, k: 1 }, ret],
      [{ code: 0x20, jt: 0, jf: 0, k: 4 }],
      [{ code: 0x20, jt: 0, jf: 0, k: 64 }, ret],
      Array.from({ length: 4097 }, () => ret),
    ];
    for (const p of bad) {
      assert.throws(() => validateProgram(p), (e: unknown) => isArmorerError(e) && e.code === 'ARMORER_E_SECCOMP');
    }
    assert.doesNotThrow(() => validateProgram([{ code: 0x15, jt: 1, jf: 0, k: 1 }, ret, ret]));
  });

  it('reports the denied syscalls and socket families for each architecture', () => {
    const x86 = buildSeccompFilter({ allowUnixSockets: false }, 'x64');
    const arm = buildSeccompFilter({ allowUnixSockets: true }, 'arm64');
    assert.deepEqual([...x86.denied].sort(), [...EXPECTED_DENIED].sort());
    assert.deepEqual([...arm.denied].sort(), EXPECTED_DENIED.filter((n) => !X86_ONLY.has(n)).sort());
    // The filter is an allow list; these are the families it names in its reports.
    const always = ['AF_ALG', 'AF_BLUETOOTH', 'AF_KEY', 'AF_NETLINK', 'AF_PACKET', 'AF_VSOCK'];
    assert.deepEqual([...x86.deniedSocketFamilies].sort(), [...always, 'AF_UNIX'].sort());
    assert.deepEqual([...arm.deniedSocketFamilies].sort(), always);
  });

  it('on aarch64 (emulated), denies ptrace, mount and io_uring_setup and allows getpid', () => {
    const { bytes } = buildSeccompFilter({ allowUnixSockets: true }, 'arm64');
    for (const nr of [117, 40, 425]) assert.equal(runFilter(bytes, nr, AUDIT.aarch64), ERRNO(EPERM), `nr ${nr}`);
    assert.equal(runFilter(bytes, 172, AUDIT.aarch64), ALLOW);
    assert.equal(runFilter(bytes, 172, AUDIT.x86_64), KILL);
    assert.equal(runFilter(bytes, 0x40000000, AUDIT.aarch64), ALLOW); // no x32 on arm64
  });

  it('on aarch64 (emulated), filters socket families and TIOCSTI', () => {
    const strict = buildSeccompFilter({ allowUnixSockets: false }, 'arm64').bytes;
    const socket = 198;
    assert.equal(runFilter(strict, socket, AUDIT.aarch64, [16n, 3n]), ERRNO(EAFNOSUPPORT));
    assert.equal(runFilter(strict, socket, AUDIT.aarch64, [1n, 1n]), ERRNO(EAFNOSUPPORT));
    assert.equal(runFilter(strict, socket, AUDIT.aarch64, [2n, 3n]), ERRNO(EPERM));
    assert.equal(runFilter(strict, socket, AUDIT.aarch64, [10n, 0x80803n]), ERRNO(EPERM));
    assert.equal(runFilter(strict, socket, AUDIT.aarch64, [2n, 1n]), ALLOW);
    assert.equal(runFilter(strict, 29, AUDIT.aarch64, [0n, 0x1_0000_5412n]), ERRNO(EPERM));
    assert.equal(runFilter(strict, 29, AUDIT.aarch64, [0n, 0x541bn]), ALLOW);
  });

  it('refuses address families it does not name, such as AF_CAN and AF_TIPC (an allow list)', () => {
    const { bytes } = buildSeccompFilter({ allowUnixSockets: true }, 'x64');
    const socket = 41;
    for (const family of [29n, 30n, 44n, 45n]) {
      assert.equal(runFilter(bytes, socket, AUDIT.x86_64, [family, 1n]), ERRNO(EAFNOSUPPORT), `family ${family}`);
    }
    assert.equal(runFilter(bytes, socket, AUDIT.x86_64, [1n, 1n]), ALLOW, 'AF_UNIX when allowed');
    assert.equal(runFilter(bytes, socket, AUDIT.x86_64, [2n, 1n]), ALLOW, 'AF_INET stream');
  });

  it('on x86_64 (emulated), kills i386 and x32 syscalls', () => {
    const { bytes } = buildSeccompFilter({ allowUnixSockets: true }, 'x64');
    assert.equal(runFilter(bytes, 20, AUDIT.i386), KILL);
    assert.equal(runFilter(bytes, 0x40000000 | 39, AUDIT.x86_64), KILL);
    assert.equal(runFilter(bytes, -1, AUDIT.x86_64), KILL);
    assert.equal(runFilter(bytes, 39, AUDIT.x86_64), ALLOW);
  });

  it('uses the syscall numbers of the installed kernel headers', (t) => {
    const headers: [0 | 1, string][] = [
      [0, '/usr/include/x86_64-linux-gnu/asm/unistd_64.h'],
      [1, '/usr/include/asm-generic/unistd.h'],
    ];
    const tables = { ...DENIED_SYSCALLS, ...ARG_CHECKED_SYSCALLS };
    let checked = 0;
    for (const [col, file] of headers) {
      if (!existsSync(file)) { t.diagnostic(`${file} not installed`); continue; }
      const text = readFileSync(file, 'utf8');
      for (const [name, nrs] of Object.entries(tables)) {
        const m = new RegExp(`^#define __NR_${name}\\s+(\\d+)`, 'm').exec(text);
        assert.equal(nrs[col], m ? Number(m[1]) : null, `${name} in ${file}`);
        checked += 1;
      }
    }
    if (checked === 0) t.skip('no kernel headers installed');
  });
});
