/** One guarantee a backend gives, as measured by a live probe on this machine. */
export interface Guarantee {
  id: string;
  /** ok: enforced as designed; degraded: enforced by a weaker fallback; missing: not enforced. */
  status: 'ok' | 'degraded' | 'missing';
  detail: string;
  fix?: string;
}

export interface BackendReport {
  backend: string;
  isDefault: boolean;
  /** Every guarantee ok or degraded. */
  usable: boolean;
  guarantees: Guarantee[];
}
