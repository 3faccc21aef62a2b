import { useEffect } from 'react';
import type { QueueStatus } from '../../../core/api/contract.js';
import { EmptyState, ErrorNotice, Loading } from '../components/Notice.js';
import { formatDate, formatNumber } from '../format.js';
import { useApi } from '../hooks.js';
import { useApp } from '../store.js';

/** How often the view asks the queue again: a status is a handful of Redis calls, the view is for watching. */
const REFRESH_MS = 3000;

/**
 * The shared analysis queue (`trendflow queue`, core/queue) of the Redis named in the settings: job counts by state,
 * connected workers, throughput over the last minutes, the latest failures with their error codes.
 */
export function QueueView() {
  const redisUrl = useApp((s) => s.redisUrl);
  const queue = useApi('queue.status', {});
  const { reload } = queue;
  useEffect(() => {
    const timer = setInterval(reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [reload]);
  return (
    <section className="view" data-testid="view-queue">
      <header className="view-head">
        <h1>Queue</h1>
        {queue.data?.configured ? <div className="muted small">{queue.data.status.redis_url} · checked {formatDate(queue.data.status.checked_at)}</div> : null}
      </header>
      {queue.error ? <ErrorNotice error={queue.error} /> : null}
      {!queue.data ? (
        queue.error ? null : <Loading what="queue" />
      ) : !queue.data.configured ? (
        <EmptyState title="No queue to watch">
          {redisUrl === null ? 'Set the Redis URL of the analysis queue in Settings to watch it here.' : 'The saved settings have no Redis URL.'}
        </EmptyState>
      ) : (
        <QueueBody status={queue.data.status} />
      )}
    </section>
  );
}

function QueueBody({ status }: { status: QueueStatus }) {
  const tiles: Array<[string, number, string]> = [
    ['waiting', status.counts.waiting, ''],
    ['active', status.counts.active, ''],
    ['delayed (retry backoff)', status.counts.delayed, ''],
    ['paused', status.counts.paused, ''],
    ['completed', status.counts.completed, 'ok'],
    ['failed', status.counts.failed, status.counts.failed > 0 ? 'error' : ''],
  ];
  return (
    <>
      <div className="panel">
        <h2>Jobs</h2>
        <div className="queue-tiles" data-testid="queue-counts">
          {tiles.map(([label, count, tone]) => (
            <div key={label} className={`queue-tile ${tone}`} data-testid={`queue-count-${label.split(' ')[0]}`}>
              <div className="queue-tile-count">{count}</div>
              <div className="muted small">{label}</div>
            </div>
          ))}
        </div>
        <dl className="facts" data-testid="queue-throughput">
          <dt>Workers</dt>
          <dd>{status.workers} connected</dd>
          <dt>Throughput</dt>
          <dd>
            {status.throughput.completed} completed in the last {status.throughput.window_minutes} min ({formatNumber(status.throughput.per_minute)} per minute)
          </dd>
          <dt>Queue</dt>
          <dd className="mono">{status.queue}</dd>
        </dl>
      </div>
      <div className="panel">
        <h2>Recent failures</h2>
        {status.failures.length === 0 ? (
          <EmptyState title="No failed job" />
        ) : (
          <table className="table" data-testid="queue-failures">
            <thead>
              <tr>
                <th>Failed at</th>
                <th>Job</th>
                <th>Video</th>
                <th>Error</th>
                <th className="num">Attempts</th>
              </tr>
            </thead>
            <tbody>
              {status.failures.map((failure) => (
                <tr key={failure.job_id} data-testid="queue-failure">
                  <td>{formatDate(failure.failed_at)}</td>
                  <td className="mono small">{failure.job_id}</td>
                  <td className="small">{failure.video}</td>
                  <td>
                    {failure.error_code ? <code>{failure.error_code}</code> : <span className="muted">no code</span>} {failure.message}
                  </td>
                  <td className="num">{failure.attempts}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </>
  );
}
