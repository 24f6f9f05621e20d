import { WebSocket } from 'undici';
import type { HealthReport } from '../recipes/types.js';

/**
 * Two probes of a published OpenClaw gateway: `GET /health` (the HTTP liveness answer) and the
 * WebSocket protocol itself — wait for the server's `connect.challenge`, answer with a `connect`
 * request carrying the gateway token, expect an ok response, then call the `health` method.
 */
export async function gatewayHealth(port: number, token: string, timeoutMs = 10_000): Promise<HealthReport> {
  const checks: HealthReport['checks'] = [];
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(timeoutMs) });
    const body = await res.text();
    let ok = false;
    try { ok = res.status === 200 && (JSON.parse(body) as { ok?: unknown }).ok === true; } catch { /* not JSON */ }
    checks.push({ name: 'GET /health', ok, detail: `${res.status} ${body.trim().slice(0, 120)}` });
  } catch (e) {
    checks.push({ name: 'GET /health', ok: false, detail: (e as Error).message });
  }
  checks.push(await wsHandshake(port, token, timeoutMs));
  return { ok: checks.every((c) => c.ok), checks };
}

function wsHandshake(port: number, token: string, timeoutMs: number): Promise<HealthReport['checks'][number]> {
  const name = 'WebSocket connect + health';
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}`);
    const steps: string[] = [];
    let finished = false;
    const done = (ok: boolean, detail: string) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      try { ws.close(); } catch { /* already closed */ }
      resolve({ name, ok, detail: `${steps.join(' -> ')}${detail ? `: ${detail}` : ''}` });
    };
    const timer = setTimeout(() => done(false, `no answer within ${timeoutMs} ms`), timeoutMs);
    ws.addEventListener('error', () => done(false, 'connection failed'));
    ws.addEventListener('message', (ev) => {
      let f: { type?: string; event?: string; id?: string; ok?: boolean; error?: { message?: string }; payload?: { protocol?: number } };
      try { f = JSON.parse(String(ev.data)) as typeof f; } catch { return done(false, 'a frame that is not JSON'); }
      if (f.type === 'event' && f.event === 'connect.challenge') {
        steps.push('challenge');
        ws.send(JSON.stringify({ type: 'req', id: 'armorer-connect', method: 'connect', params: {
          minProtocol: 4, maxProtocol: 4, role: 'operator', scopes: ['operator.read'], auth: { token },
          client: { id: 'openclaw-probe', version: '1', platform: process.platform, mode: 'probe' },
        } }));
      } else if (f.type === 'res' && f.id === 'armorer-connect') {
        if (!f.ok) return done(false, `connect refused: ${f.error?.message ?? 'no reason'}`);
        steps.push('hello-ok');
        ws.send(JSON.stringify({ type: 'req', id: 'armorer-health', method: 'health', params: {} }));
      } else if (f.type === 'res' && f.id === 'armorer-health') {
        steps.push(f.ok ? 'health ok' : 'health failed');
        done(f.ok === true, f.ok ? '' : f.error?.message ?? '');
      }
    });
  });
}
