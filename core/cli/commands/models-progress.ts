/**
 * Download progress for `trendflow models fetch`, on stderr: a redrawn bar (bytes, %, rate, ETA) on a terminal,
 * plain lines (start, every 25 %, retries, done) otherwise.
 */
import type { FetchProgress } from '../../runtime/registry/index.js';

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** The bar line: `id/file [#####.....]  45%  12.3 MB / 27.1 MB  5.2 MB/s  ETA 3s`. */
export function progressLine(label: string, received: number, total: number | null, rate: number, width = 24): string {
  const speed = rate > 0 ? `${formatBytes(rate)}/s` : '-- B/s';
  if (total === null || total <= 0) return `${label} ${formatBytes(received)}  ${speed}`;
  const fraction = Math.min(1, received / total);
  const filled = Math.round(fraction * width);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
  const eta = rate > 0 ? formatDuration((total - received) / rate) : '--';
  return `${label} ${bar} ${String(Math.floor(fraction * 100)).padStart(3)}%  ${formatBytes(received)} / ${formatBytes(total)}  ${speed}  ETA ${eta}`;
}

/** Turns FetchProgress events into stderr output. `now` is injectable for tests. */
export class DownloadProgress {
  #started = 0;
  #startBytes = 0;
  #lastDraw = 0;
  #lastQuarter = -1;
  #drawn = false;

  constructor(
    private readonly stream: ProgressStream,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get tty(): boolean {
    return Boolean(this.stream.isTTY);
  }

  readonly onProgress = (event: FetchProgress): void => {
    const label = `${event.id}/${event.file}`;
    const time = this.now();
    switch (event.phase) {
      case 'start':
        this.#started = time;
        this.#startBytes = event.received;
        this.#lastQuarter = -1;
        if (!this.tty) {
          const from = event.resumedFrom > 0 ? ` (resuming at ${formatBytes(event.resumedFrom)})` : '';
          const size = event.total !== null ? `, ${formatBytes(event.total)}` : '';
          this.stream.write(`downloading ${label} from ${event.url}${size}${from}\n`);
        } else {
          this.#draw(label, event, time, true);
        }
        return;
      case 'download':
        if (this.tty) {
          this.#draw(label, event, time, false);
        } else if (event.total) {
          const quarter = Math.floor((event.received / event.total) * 4);
          if (quarter > this.#lastQuarter && quarter > 0 && quarter < 4) {
            this.#lastQuarter = quarter;
            this.stream.write(`${label}: ${quarter * 25}% (${formatBytes(event.received)} of ${formatBytes(event.total)})\n`);
          }
        }
        return;
      case 'retry':
        this.#endLine();
        this.stream.write(`${label}: retry ${event.attempt}: ${event.message ?? 'transient failure'}\n`);
        return;
      case 'verify':
        return;
      case 'done':
        this.#endLine();
        return;
    }
  };

  #rate(event: FetchProgress, time: number): number {
    const seconds = (time - this.#started) / 1000;
    // early rates are noise; a finished download shows its average
    const finished = event.total !== null && event.received >= event.total;
    return seconds > 0.2 || (finished && seconds > 0) ? (event.received - this.#startBytes) / seconds : 0;
  }

  #draw(label: string, event: FetchProgress, time: number, force: boolean): void {
    if (!force && time - this.#lastDraw < 100 && event.received !== event.total) return;
    this.#lastDraw = time;
    const line = progressLine(label, event.received, event.total, this.#rate(event, time));
    const columns = this.stream.columns ?? 100;
    this.stream.write(`\r${line.length >= columns ? line.slice(0, columns - 1) : line}\x1b[K`);
    this.#drawn = true;
  }

  #endLine(): void {
    if (this.#drawn) this.stream.write('\n');
    this.#drawn = false;
  }
}
