/**
 * App-wide state (zustand): the transport, app info, the route, the runs list with its filter, and the runs the
 * analyst picked for compare/export. View data is loaded per view with useApi (hooks.ts).
 */
import { create } from 'zustand';
import type { AnalysisJob, AppInfo, RunRef, RunSummary } from '../../core/api/contract.js';
import type { RunStatus } from '../../core/contracts/status.js';
import { ApiCallError, type Transport } from './api/client.js';
import { formatRoute, parseRoute, refPath, sameRun, type Route } from './route.js';

export interface AppState {
  transport: Transport | null;
  info: AppInfo | null;
  fatal: string | null;
  route: Route;
  runs: RunSummary[];
  runsTotal: number;
  runsLoading: boolean;
  runsError: ApiCallError | null;
  query: string;
  statusFilter: RunStatus[];
  /** Runs ticked in the runs list (compare takes the first two, export all). */
  picked: RunRef[];
  /** Bumped on `runs.changed`, so views showing a run reload it. */
  storeVersion: number;
  /** The Redis URL of the saved settings (the Queue view is offered when there is one). */
  redisUrl: string | null;
  /** The timeline cursor (seconds) of a run, shared with the CLIP and faces views. */
  cursor: { run: string; time: number } | null;
  /** Analyses started from the workstation (this host's jobs), newest first, kept current by `analysis.progress`. */
  jobs: AnalysisJob[];

  init(transport: Transport | null): Promise<void>;
  navigate(route: Route): void;
  refreshRuns(): Promise<void>;
  setQuery(query: string): void;
  toggleStatus(status: RunStatus): void;
  togglePicked(run: RunRef): void;
  setCursor(run: RunRef, time: number): void;
  upsertJob(job: AnalysisJob): void;
  setRedisUrl(url: string | null): void;
}

export const useApp = create<AppState>((set, get) => ({
  transport: null,
  info: null,
  fatal: null,
  route: parseRoute(window.location.hash),
  runs: [],
  runsTotal: 0,
  runsLoading: false,
  runsError: null,
  query: '',
  statusFilter: [],
  picked: [],
  storeVersion: 0,
  redisUrl: null,
  cursor: null,
  jobs: [],

  async init(transport) {
    if (!transport) {
      set({ fatal: 'This page needs the access token: open the exact URL that `trendflow serve` printed (it ends in #token=…).' });
      return;
    }
    set({ transport, route: parseRoute(window.location.hash) });
    window.addEventListener('hashchange', () => set({ route: parseRoute(window.location.hash) }));
    transport.subscribe((event) => {
      if (event.type === 'runs.changed') {
        set((state) => ({ storeVersion: state.storeVersion + 1 }));
        void get().refreshRuns();
      } else if (event.type === 'ui.navigate') {
        window.location.hash = event.route;
      } else if (event.type === 'analysis.progress') {
        const before = get().jobs.find((job) => job.job_id === event.job.job_id);
        get().upsertJob(event.job);
        // a run that just ended is in the store now: list it without waiting for the store poll
        if (event.job.run && before?.state !== event.job.state && ['finished', 'cancelled'].includes(event.job.state)) void get().refreshRuns();
      }
    });
    try {
      set({ info: await transport.call('app.info', {}) });
      // the settings decide whether the Queue view is offered; a broken settings file is the settings view's to show
      transport
        .call('settings.get', {})
        .then((state) => set({ redisUrl: state.settings.redis_url }))
        .catch(() => undefined);
    } catch (error) {
      set({ fatal: `The workstation API does not answer: ${(error as Error).message}` });
      return;
    }
    await get().refreshRuns();
    try {
      const { jobs } = await transport.call('analysis.list', {});
      // events may have arrived meanwhile; they are newer than this list
      for (const job of [...jobs].reverse()) if (!get().jobs.some((known) => known.job_id === job.job_id)) get().upsertJob(job);
    } catch (error) {
      set({ runsError: error instanceof ApiCallError ? error : new ApiCallError('internal_error', String(error)) });
    }
  },

  navigate(route) {
    const hash = formatRoute(route);
    if (window.location.hash !== hash) window.location.hash = hash;
    else set({ route });
  },

  async refreshRuns() {
    const { transport, query, statusFilter } = get();
    if (!transport) return;
    set({ runsLoading: true });
    try {
      const result = await transport.call('runs.list', { ...(query.trim() ? { query: query.trim() } : {}), ...(statusFilter.length ? { status: statusFilter } : {}) });
      set({ runs: result.runs, runsTotal: result.total, runsError: null, runsLoading: false });
    } catch (error) {
      set({ runsError: error instanceof ApiCallError ? error : new ApiCallError('internal_error', String(error)), runsLoading: false });
    }
  },

  setQuery(query) {
    set({ query });
    void get().refreshRuns();
  },

  toggleStatus(status) {
    set((state) => ({ statusFilter: state.statusFilter.includes(status) ? state.statusFilter.filter((s) => s !== status) : [...state.statusFilter, status] }));
    void get().refreshRuns();
  },

  setCursor(run, time) {
    set({ cursor: { run: refPath(run), time } });
  },

  setRedisUrl(url) {
    set({ redisUrl: url });
  },

  upsertJob(job) {
    set((state) => ({ jobs: state.jobs.some((known) => known.job_id === job.job_id) ? state.jobs.map((known) => (known.job_id === job.job_id ? job : known)) : [job, ...state.jobs] }));
  },

  togglePicked(run) {
    set((state) => ({ picked: state.picked.some((p) => sameRun(p, run)) ? state.picked.filter((p) => !sameRun(p, run)) : [...state.picked, run] }));
  },
}));
