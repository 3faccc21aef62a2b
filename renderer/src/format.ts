/** Human formatting of sizes, durations, times and numbers for the views. */

export function formatBytes(bytes: number | null): string {
  if (bytes === null) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 100 || unit === 0 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

export function formatMs(ms: number | null): string {
  if (ms === null) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** Seconds as m:ss.t (video time). */
export function formatTime(seconds: number): string {
  if (!Number.isFinite(seconds)) return '—';
  const sign = seconds < 0 ? '-' : '';
  const s = Math.abs(seconds);
  const minutes = Math.floor(s / 60);
  return `${sign}${minutes}:${(s - minutes * 60).toFixed(2).padStart(5, '0')}`;
}

export function formatDate(iso: string | null): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** A number with about 4 significant digits; null (a missing value) as an em dash, never as 0. */
export function formatNumber(value: number | null): string {
  if (value === null || Number.isNaN(value)) return '—';
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e5 || magnitude < 1e-3) return value.toExponential(2);
  return value.toPrecision(4).replace(/\.?0+$/, '');
}

/** A count compactly: 12.3k, 4.5M (about 4 significant digits; one decimal below a thousand). */
export function formatCount(value: number): string {
  const magnitude = Math.abs(value);
  if (magnitude >= 1e9) return `${formatNumber(value / 1e9)}B`;
  if (magnitude >= 1e6) return `${formatNumber(value / 1e6)}M`;
  if (magnitude >= 1e3) return `${formatNumber(value / 1e3)}k`;
  return formatNumber(Math.round(value * 10) / 10);
}

export function shortHash(hash: string | null): string {
  if (!hash) return '—';
  const body = hash.replace(/^(sha256:|msig1:)/, '');
  return `${hash.slice(0, hash.length - body.length)}${body.slice(0, 12)}…`;
}
