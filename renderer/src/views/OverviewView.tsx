import type { FeatureTable, RunOverview, RunRef } from '../../../core/api/contract.js';
import type { ComponentMetrics } from '../../../core/contracts/manifest.js';
import { EmptyState, ErrorNotice, Loading, StatusBadge, UnavailableNotice } from '../components/Notice.js';
import { formatBytes, formatDate, formatMs, formatNumber, formatTime, shortHash } from '../format.js';
import { useApi } from '../hooks.js';

/** One run: identity, frames, every component with status, timings and models, validation, scalar features. */
export function OverviewView({ run }: { run: RunRef }) {
  const overview = useApi('runs.overview', { run });
  const features = useApi('views.features', { run });
  if (overview.error) return <ErrorNotice error={overview.error} />;
  if (!overview.data) return <Loading what="run" />;
  const { manifest, summary, validation, frames } = overview.data;
  return (
    <section className="view" data-testid="view-overview">
      <header className="view-head">
        <h1>
          {summary.source_name ?? summary.video_id} <StatusBadge status={summary.status} />
        </h1>
        <div className="muted mono">
          {summary.platform_id}/{summary.video_id}/{summary.run_id}
        </div>
      </header>
      <div className="grid-2">
        <div className="panel">
          <h2>Identity</h2>
          <dl className="facts">
            <dt>Created</dt>
            <dd>{formatDate(manifest.run.created_at)}</dd>
            <dt>Updated</dt>
            <dd>{formatDate(manifest.run.updated_at)}</dd>
            <dt>Source</dt>
            <dd title={manifest.run.source_path}>
              {manifest.run.source_path ?? '—'} ({formatBytes(manifest.run.source_bytes ?? null)})
            </dd>
            <dt>Source sha256</dt>
            <dd className="mono">{shortHash(manifest.run.source_sha256 ?? null)}</dd>
            <dt>Config hash</dt>
            <dd className="mono">{shortHash(manifest.run.config_hash)}</dd>
            <dt>Versions</dt>
            <dd>
              dataprocessor {manifest.run.dataprocessor_version} · {manifest.run.sampling_policy_version}
            </dd>
            {manifest.run.error ? (
              <>
                <dt>Error</dt>
                <dd className="error-text">
                  <code>{manifest.run.error.error_code}</code> {manifest.run.error.message}
                </dd>
              </>
            ) : null}
          </dl>
        </div>
        <div className="panel" data-testid="frames-panel">
          <h2>Frames</h2>
          {frames.available ? (
            <dl className="facts">
              <dt>Video</dt>
              <dd>
                {frames.source.name}: {frames.source.width}×{frames.source.height}, {frames.source.fps ? `${formatNumber(frames.source.fps)} fps` : 'variable rate'}, {frames.source.codec}
                {frames.source.rotation_deg ? `, rotated ${frames.source.rotation_deg}°` : ''}, {frames.source.has_audio ? 'with audio' : 'no audio'}
              </dd>
              <dt>Duration</dt>
              <dd>{formatTime(frames.duration_sec)}</dd>
              <dt>Analysis</dt>
              <dd>
                {frames.count} stored frames at {frames.width}×{frames.height}, timeline {formatNumber(frames.analysis_fps)} fps
              </dd>
              {frames.warnings.length ? (
                <>
                  <dt>Warnings</dt>
                  <dd>{frames.warnings.join('; ')}</dd>
                </>
              ) : null}
            </dl>
          ) : (
            <UnavailableNotice what="frames" unavailable={frames} />
          )}
        </div>
      </div>
      <ComponentsPanel overview={overview.data} />
      <ValidationPanel validation={validation} />
      <div className="panel">
        <h2>Scalar features</h2>
        {features.error ? <ErrorNotice error={features.error} /> : null}
        {features.data && features.data.tables.length === 0 ? (
          <EmptyState title="No scalar features in this run">Audio, text and video_aggregates write feature_names/feature_values; none of them is in this run.</EmptyState>
        ) : null}
        {features.data?.tables.map((table) => <FeatureTableView key={table.component} table={table} />)}
      </div>
    </section>
  );
}

function ComponentsPanel({ overview }: { overview: RunOverview }) {
  const components = overview.manifest.components;
  return (
    <div className="panel">
      <h2>Components</h2>
      {components.length === 0 ? (
        <EmptyState title="No component has finished yet" />
      ) : (
        // a safety net: ten components with model names and artifact paths can outgrow a 1280 px window
        <div className="table-scroll">
          <table className="table" data-testid="components-table">
            <thead>
              <tr>
                <th>Component</th>
                <th>Kind</th>
                <th>Status</th>
                <th className="num">Duration</th>
                <th>Device</th>
                <th>Models</th>
                <th>Artifacts</th>
                <th>Versions</th>
              </tr>
            </thead>
            <tbody>
              {components.map((c) => (
                <tr key={c.name} data-testid={`component-${c.name}`}>
                  <td className="mono">{c.name}</td>
                  <td>{c.kind}</td>
                  <td>
                    <StatusBadge status={c.status} />
                    {c.empty_reason ? <div className="small muted">{c.empty_reason}</div> : null}
                    {c.error ? (
                      <div className="small error-text">
                        <code>{c.error.error_code}</code> {c.error.message}
                      </div>
                    ) : null}
                    {c.cache_hit ? <div className="small muted">cache hit from {c.cache_source_run_id}</div> : null}
                  </td>
                  <td className="num">
                    {formatMs(c.duration_ms)}
                    <MetricsNote metrics={c.metrics} />
                  </td>
                  <td>
                    {c.device_used ?? '—'}
                    <BatchNote notes={c.notes} />
                  </td>
                  <td className="small">
                    {c.models_used.length === 0
                      ? '—'
                      : c.models_used.map((m, i) => (
                          <div key={i} title={`${m.weights_digest} · ${m.engine} · ${m.precision}`}>
                            {m.model_name} <span className="muted">@{m.model_version.slice(0, 12)} · {m.runtime}/{m.device}</span>
                          </div>
                        ))}
                  </td>
                  <td className="small">
                    {c.artifacts.map((a) => (
                      <div key={a.path} title={`${a.path} · sha256 ${a.sha256}`}>
                        {/* the component column names the folder already */}
                        {a.path.startsWith(`${c.name}/`) ? a.path.slice(c.name.length + 1) : a.path} <span className="muted">{formatBytes(a.bytes)}</span>
                      </div>
                    ))}
                  </td>
                  <td className="small muted break-anywhere">
                    <div>{c.producer_version}</div>
                    <div>{c.schema_version}</div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

/** What the orchestrator measured (manifest_v2 `metrics`): units done, their rate, the process's peak memory. */
function MetricsNote({ metrics }: { metrics: ComponentMetrics | null }) {
  if (!metrics) return null;
  const parts = [
    metrics.units_done !== undefined ? `${formatNumber(metrics.units_done)} units` : null,
    metrics.throughput_per_s !== undefined ? `${formatNumber(metrics.throughput_per_s)}/s` : null,
    metrics.peak_rss_bytes !== undefined ? `peak ${formatBytes(metrics.peak_rss_bytes)}` : null,
  ].filter((part): part is string => part !== null);
  return parts.length === 0 ? null : (
    <div className="small muted" data-testid="component-metrics">
      {parts.join(' · ')}
    </div>
  );
}

/** The batch size a model component ran with and where it came from (the orchestrator's `batch_size N: …` note). */
function BatchNote({ notes }: { notes: readonly string[] }) {
  const note = notes.find((n) => /^batch_size \d+:/.test(n));
  if (!note) return null;
  const [size, source] = note.split(/:\s*/, 2) as [string, string];
  return (
    <div className="small muted" title={note} data-testid="batch-note">
      {size.replace('batch_size', 'batch')}, {source.startsWith('fixed') ? 'fixed' : 'planned'}
    </div>
  );
}

function ValidationPanel({ validation }: { validation: RunOverview['validation'] }) {
  return (
    <div className="panel" data-testid="validation-panel">
      <h2>
        Validation {validation.ok ? <span className="badge badge-ok">valid</span> : <span className="badge badge-error">{validation.problems.length} problems</span>}
      </h2>
      {validation.ok ? (
        <p className="muted">The manifest, every artifact's schema, size and sha256, and the run identity in every artifact check out (trendflow validate).</p>
      ) : (
        <ul className="problems">
          {validation.problems.map((p, i) => (
            <li key={i}>
              <code>{p.code}</code> {p.file ? <span className="mono">{p.file}{p.key ? `:${p.key}` : ''}</span> : null} {p.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function FeatureTableView({ table }: { table: FeatureTable }) {
  return (
    <div className="feature-table">
      <h3>
        {table.component} {table.status === 'empty' ? <span className="muted">(empty: {table.empty_reason})</span> : null}
      </h3>
      <table className="table compact">
        <tbody>
          {table.names.map((name, i) => (
            <tr key={name}>
              <td className="mono">{name}</td>
              <td className="num">{formatNumber(table.values[i]!)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
