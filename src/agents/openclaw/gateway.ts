import { WebSocket } from 'undici';

/** One JSON frame of OpenClaw's gateway protocol (only the fields Armorer reads). */
export interface Frame {
  type?: string; event?: string; id?: string; ok?: boolean;
  error?: { message?: string }; payload?: Record<string, unknown>;
}

export interface GatewayClient { id: string; mode: string; scopes: string[] }

export interface GatewayCall {
  method: string;
  params: Record<string, unknown>;
  /** Whether a response to the call is the last one (some methods answer "accepted" first). */
  final?: (f: Frame) => boolean;
}

export interface GatewayAnswer { frame: Frame; frames: number; steps: string[]; ms: number }

/** A failed exchange, with the steps that did complete (`challenge -> hello-ok`). */
export class GatewayError extends Error {
  constructor(message: string, readonly steps: string[]) {
    super(message);
    this.name = 'GatewayError';
  }
}

/**
 * One request to a published OpenClaw gateway at the protocol level: wait for the server's
 * `connect.challenge`, answer with a `connect` request carrying the gateway token, then send the
 * call and resolve with its final response (ok or not). Anything else rejects with GatewayError.
 */
export function gatewayRequest(port: number, token: string, client: GatewayClient, call: GatewayCall,
  timeoutMs: number): Promise<GatewayAnswer> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const ws = new WebSocket(`ws://127.0.0.1:${port}`);
    const steps: string[] = [];
    let frames = 0;
    let finished = false;
    const end = (outcome: () => void) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      try { ws.close(); } catch { /* already closed */ }
      outcome();
    };
    const fail = (why: string) => end(() => reject(new GatewayError(why, steps)));
    const timer = setTimeout(() => fail(`no answer within ${timeoutMs} ms`), timeoutMs);
    ws.addEventListener('error', () => fail('connection failed'));
    ws.addEventListener('message', (ev) => {
      frames++;
      let f: Frame;
      try { f = JSON.parse(String(ev.data)) as Frame; } catch { return fail('a frame that is not JSON'); }
      if (f.type === 'event' && f.event === 'connect.challenge') {
        steps.push('challenge');
        ws.send(JSON.stringify({ type: 'req', id: 'armorer-connect', method: 'connect', params: {
          minProtocol: 4, maxProtocol: 4, role: 'operator', scopes: client.scopes, auth: { token },
          client: { id: client.id, version: '1', platform: process.platform, mode: client.mode },
        } }));
      } else if (f.type === 'res' && f.id === 'armorer-connect') {
        if (!f.ok) return fail(`connect refused: ${f.error?.message ?? 'no reason'}`);
        steps.push('hello-ok');
        ws.send(JSON.stringify({ type: 'req', id: 'armorer-call', method: call.method, params: call.params }));
      } else if (f.type === 'res' && f.id === 'armorer-call' && (!f.ok || (call.final?.(f) ?? true))) {
        end(() => resolve({ frame: f, frames, steps, ms: Date.now() - started }));
      }
    });
  });
}
