import type { HealthReport } from '../recipes/types.js';
import { GatewayError, gatewayRequest } from './gateway.js';

/**
 * Two probes of a published OpenClaw gateway: `GET /health` (the HTTP liveness answer) and the
 * WebSocket protocol itself — challenge, `connect` with the gateway token, then the `health` method.
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
  checks.push(await wsHealth(port, token, timeoutMs));
  return { ok: checks.every((c) => c.ok), checks };
}

async function wsHealth(port: number, token: string, timeoutMs: number): Promise<HealthReport['checks'][number]> {
  const name = 'WebSocket connect + health';
  try {
    const { frame, steps } = await gatewayRequest(port, token, { id: 'openclaw-probe', mode: 'probe', scopes: ['operator.read'] },
      { method: 'health', params: {} }, timeoutMs);
    const trail = [...steps, frame.ok ? 'health ok' : 'health failed'].join(' -> ');
    return { name, ok: frame.ok === true, detail: frame.ok ? trail : `${trail}: ${frame.error?.message ?? ''}` };
  } catch (e) {
    const steps = e instanceof GatewayError ? e.steps : [];
    return { name, ok: false, detail: `${steps.join(' -> ')}: ${(e as Error).message}` };
  }
}
