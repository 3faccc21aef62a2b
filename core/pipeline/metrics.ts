/**
 * Per-component metrics (seed 003 Q33–Q34): batch size, peak memory, units processed and throughput. They are
 * facts about the run, so they go into the manifest entry's `metrics` field (ComponentMetrics in
 * core/contracts/manifest.ts), and the run index copies them into its metrics table.
 */

/** Samples the process's resident memory while a component runs and keeps the peak. */
export class PeakRssSampler {
  private peak = process.memoryUsage.rss();
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs = 100) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  private sample(): void {
    this.peak = Math.max(this.peak, process.memoryUsage.rss());
  }

  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peak;
  }
}
