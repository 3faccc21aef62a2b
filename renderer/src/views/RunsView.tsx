import type { RunRef } from '../../../core/api/contract.js';
import { RUN_STATUSES_SHOWN } from '../constants.js';
import { EmptyState, ErrorNotice, StatusBadge } from '../components/Notice.js';
import { formatBytes, formatDate, formatMs } from '../format.js';
import { refPath, sameRun } from '../route.js';
import { useApp } from '../store.js';

/** Run A is the earlier run (run_ids sort by creation time), whatever order they were ticked in. */
function olderFirst(x: RunRef, y: RunRef): { a: RunRef; b: RunRef } {
  return x.run_id <= y.run_id ? { a: x, b: y } : { a: y, b: x };
}

/** All runs of the store: search, status filter, pick two to compare; updates live when the store changes. */
export function RunsView() {
  const { runs, runsTotal, runsLoading, runsError, query, statusFilter, picked, info } = useApp();
  const { setQuery, toggleStatus, togglePicked, navigate, refreshRuns } = useApp.getState();
  const canCompare = picked.length === 2;
  return (
    <section className="view" data-testid="view-runs">
      <header className="view-head">
        <h1>Runs</h1>
        <div className="toolbar">
          <input
            type="search"
            className="search"
            placeholder="Search video, run id, file…"
            aria-label="Search runs"
            value={query}
            onChange={(event) => setQuery(event.target.value)}
            data-testid="runs-search"
          />
          {RUN_STATUSES_SHOWN.map((status) => (
            <button key={status} type="button" className={`chip${statusFilter.includes(status) ? ' on' : ''}`} aria-pressed={statusFilter.includes(status)} onClick={() => toggleStatus(status)}>
              {status}
            </button>
          ))}
          <button type="button" onClick={() => void refreshRuns()} disabled={runsLoading}>
            Refresh
          </button>
          <button type="button" className="primary" disabled={!canCompare} data-testid="compare-picked" onClick={() => navigate({ view: 'compare', ...olderFirst(picked[0]!, picked[1]!) })}>
            Compare {picked.length}/2
          </button>
        </div>
      </header>
      {runsError ? <ErrorNotice error={runsError} /> : null}
      {!runsError && runs.length === 0 && !runsLoading ? (
        <EmptyState title={runsTotal === 0 ? 'No runs in this store yet' : 'No run matches the filter'}>
          {runsTotal === 0 ? (
            <>
              Runs appear here as soon as <code>trendflow analyze</code> writes them to <code>{info?.store}</code>.
            </>
          ) : (
            `${runsTotal} runs in the store; clear the search or the status filter.`
          )}
        </EmptyState>
      ) : null}
      {runs.length > 0 ? (
        <table className="table runs-table" data-testid="runs-table">
          <thead>
            <tr>
              <th aria-label="Pick" />
              <th>Video</th>
              <th>Run</th>
              <th>Status</th>
              <th>Components</th>
              <th>Created</th>
              <th className="num">Compute</th>
              <th className="num">Source</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((run) => (
              <tr key={refPath(run)} className="clickable" data-testid="run-row" onClick={() => navigate({ view: 'run', run, tab: 'overview' })}>
                <td onClick={(event) => event.stopPropagation()}>
                  <input type="checkbox" aria-label={`Pick ${run.run_id}`} checked={picked.some((p) => sameRun(p, run))} onChange={() => togglePicked(run)} />
                </td>
                <td>
                  <div>{run.source_name ?? run.video_id}</div>
                  <div className="muted small">
                    {run.platform_id}/{run.video_id}
                  </div>
                </td>
                <td className="mono">{run.run_id}</td>
                <td>
                  <StatusBadge status={run.status} />
                  {run.problem ? (
                    <div className="small error-text" title={run.problem.message}>
                      {run.problem.code}
                    </div>
                  ) : null}
                </td>
                <td>
                  <span className="count count-ok">{run.components.ok} ok</span>
                  {run.components.empty ? <span className="count count-empty">{run.components.empty} empty</span> : null}
                  {run.components.error ? <span className="count count-error">{run.components.error} error</span> : null}
                </td>
                <td className="small">{formatDate(run.created_at)}</td>
                <td className="num">{formatMs(run.compute_ms)}</td>
                <td className="num">{formatBytes(run.source_bytes)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <footer className="muted small">
        {runs.length} of {runsTotal} runs shown · updates when the store changes
      </footer>
    </section>
  );
}
