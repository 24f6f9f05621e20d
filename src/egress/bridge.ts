import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { ArmorerError } from '../core/errors.js';
import type { HostIdentity } from '../sandbox/bwrap/identity.js';
import { findTool, SYSTEM_PATH } from '../sandbox/bwrap/locate.js';

/**
 * The code of the bridge process. It runs on the host (not in the sandbox's pid namespace, so the
 * sandbox can neither see nor signal it) inside a fresh user + network namespace that the sandbox
 * later joins. It listens on 127.0.0.1:<port> there and hands every accepted socket to the
 * supervisor over Node's IPC channel; for --publish it opens connections to sandbox ports and
 * hands those over too. It holds no policy and no secret: it only moves file descriptors.
 */
const CHILD = `
const net = require('net');
const port = Number(process.argv[1]);
const server = net.createServer({ pauseOnConnect: true }, (s) => process.send({ t: 'conn' }, s));
server.on('error', (e) => { process.send({ t: 'error', message: e.message }); process.exit(1); });
server.listen(port, '127.0.0.1', () => process.send({ t: 'ready' }));
process.on('message', (m) => {
  if (!m || m.t !== 'open') return;
  const s = net.connect(m.port, '127.0.0.1');
  s.once('connect', () => { s.pause(); process.send({ t: 'opened', id: m.id }, s); });
  s.once('error', (e) => process.send({ t: 'open-failed', id: m.id, message: e.message }));
});
process.on('disconnect', () => process.exit(0));
`;

export interface BridgeOptions {
  port: number;
  identity: HostIdentity;
  onConnection(socket: Socket): void;
  readyTimeoutMs?: number;
}

interface Message { t: string; id?: number; message?: string }

export class Bridge {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(s: Socket): void; reject(e: Error): void }>();

  private constructor(private readonly child: ChildProcess) {}

  /** The process whose user and network namespaces the sandbox joins (`nsenter -t`). */
  get holderPid(): number {
    return this.child.pid!;
  }

  static async start(opts: BridgeOptions): Promise<Bridge> {
    const [setpriv, unshare, ip] = [findTool('setpriv'), findTool('unshare'), findTool('ip')];
    if (!setpriv || !unshare || !ip) {
      throw new ArmorerError('ARMORER_E_BRIDGE', 'the network bridge needs setpriv, unshare (util-linux) and ip (iproute2)',
        'apt-get install util-linux iproute2');
    }
    const id = opts.identity;
    // --map-root-user: inside its own namespaces the bridge may bring loopback up; on the host it is
    // the sandbox user (or the caller), never root.
    const argv = [setpriv, '--pdeathsig', 'KILL',
      ...(id.dropped ? [`--reuid=${id.uid}`, `--regid=${id.gid}`, '--clear-groups', '--inh-caps=-all'] : []),
      '--', unshare, '--user', '--map-root-user', '--net', '--',
      '/bin/sh', '-c', `${ip} link set lo up && exec "$0" "$@"`, process.execPath, '-e', CHILD, String(opts.port)];
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env: { PATH: SYSTEM_PATH } });
    const bridge = new Bridge(child);
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => { stderr = (stderr + b.toString()).slice(-1000); });
    await new Promise<void>((resolve, reject) => {
      const fail = (why: string) => reject(new ArmorerError('ARMORER_E_BRIDGE', `the network bridge did not start: ${why}`,
        'run "armorer doctor"; the sandbox needs unprivileged user namespaces and iproute2'));
      const timer = setTimeout(() => { child.kill('SIGKILL'); fail('no answer in time'); }, opts.readyTimeoutMs ?? 10_000);
      child.once('exit', (code) => { clearTimeout(timer); fail(`exit ${code}: ${stderr.trim() || 'no message'}`); });
      child.on('message', (m: Message, handle?: Socket) => {
        if (m.t === 'ready') {
          clearTimeout(timer);
          resolve();
        } else if (m.t === 'error') {
          clearTimeout(timer);
          fail(m.message ?? 'unknown');
        } else if (m.t === 'conn' && handle) {
          opts.onConnection(handle);
        } else if (m.t === 'opened' && handle && m.id !== undefined) {
          bridge.pending.get(m.id)?.resolve(handle);
          bridge.pending.delete(m.id);
        } else if (m.t === 'open-failed' && m.id !== undefined) {
          bridge.pending.get(m.id)?.reject(new Error(m.message ?? 'connection failed'));
          bridge.pending.delete(m.id);
        }
      });
    });
    child.removeAllListeners('exit');
    return bridge;
  }

  /** A connection to 127.0.0.1:<port> inside the sandbox's network namespace (for --publish). */
  open(port: number): Promise<Socket> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (!this.child.connected) {
        this.pending.delete(id);
        reject(new Error('the bridge is gone'));
        return;
      }
      this.child.send({ t: 'open', id, port });
    });
  }

  stop(): void {
    this.child.kill('SIGKILL');
  }
}
