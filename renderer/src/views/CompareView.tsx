import { useMemo, useState } from 'react';
import type { ComponentSide, RunComparison, RunRef, TimelineData } from '../../../core/api/contract.js';
import { Chart, type ChartSeries } from '../components/Chart.js';
import { EmptyState, ErrorNotice, Loading, StatusBadge, UnavailableNotice } from '../components/Notice.js';
import { formatMs, formatNumber, shortHash } from '../format.js';
import { useApi } from '../hooks.js';
import { refPath } from '../route.js';
import { useApp } from '../store.js';
import type { Viewport } from '../timeline.js';

/** Two runs side by side: identity/config diff, component timings and models, feature deltas, aligned timelines. */
export function CompareView({ a, b }: { a: RunRef | null; b: RunRef | null }) {
  const { runs, navigate } = useApp();
  const choose = (side: 'a' | 'b', key: string): void => {
    const run = runs.find((r) => refPath(r) === key) ?? null;
    const next = { a: side === 'a' ? run : a, b: side === 'b' ? run : b };
    navigate({ view: 'compare', ...next });
  };
  return (
    <section className="view" data-testid="view-compare">
      <header className="view-head">
        <h1>Compare</h1>
        <div className="toolbar">
          {(['a', 'b'] as const).map((side) => (
            <select key={side} aria-label={`Run ${side.toUpperCase()}`} value={side === 'a' ? (a ? refPath(a) : '') : b ? refPath(b) : ''} onChange={(e) => choose(side, e.target.value)}>
              <option value="">Run {side.toUpperCase()}…</option>
              {runs.map((r) => (
                <option key={refPath(r)} value={refPath(r)}>
                  {r.source_name ?? r.video_id} · {r.run_id}
                </option>
              ))}
            </select>
          ))}
        </div>
      </header>
      {a && b ? <CompareBody a={a} b={b} /> : <EmptyState title="Pick two runs">Choose run A and run B above, or tick two runs in the Runs view and press Compare.</EmptyState>}
    </section>
  );
}

function CompareBody({ a, b }: { a: RunRef; b: RunRef }) {
  const comparison = useApi('runs.compare', { a, b });
  const timelineA = useApi('views.timeline', { run: a });
  const timelineB = useApi('views.timeline', { run: b });
  if (comparison.error) return <ErrorNotice error={comparison.error} />;
  if (!comparison.data) return <Loading what="comparison" />;
  const data = comparison.data;
  return (
    <>
      <div className="panel">
        <h2>Runs</h2>
        <table className="table" data-testid="compare-identity">
          <thead>
            <tr>
              <th />
              <th>A: {data.a.run_id}</th>
              <th>B: {data.b.run_id}</th>
            </tr>
          </thead>
          <tbody>
            {data.identity.map((row) => (
              <tr key={row.field} className={row.same ? '' : 'diff'}>
                <td className="mono">{row.field}</td>
                <td className="mono">{row.field.endsWith('hash') || row.field.endsWith('sha256') ? shortHash(row.a) : (row.a ?? '—')}</td>
                <td className="mono">{row.field.endsWith('hash') || row.field.endsWith('sha256') ? shortHash(row.b) : (row.b ?? '—')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <ComponentsDiff data={data} />
      <FeaturesDiff data={data} />
      <div className="panel">
        <h2>Aligned timelines (same time axis)</h2>
        {timelineA.data && timelineB.data ? <AlignedTimelines a={timelineA.data} b={timelineB.data} /> : timelineA.error ? <ErrorNotice error={timelineA.error} /> : timelineB.error ? <ErrorNotice error={timelineB.error} /> : <Loading what="timelines" />}
      </div>
    </>
  );
}

function sideCell(side: ComponentSide | null) {
  if (!side) return <span className="muted">not in run</span>;
  return (
    <>
      <StatusBadge status={side.status} /> {formatMs(side.duration_ms)}
      {side.cache_hit ? <span className="muted small"> (cache)</span> : null}
      {side.error ? <div className="small error-text">{side.error.code}</div> : null}
      {side.empty_reason ? <div className="small muted">{side.empty_reason}</div> : null}
    </>
  );
}

function ComponentsDiff({ data }: { data: RunComparison }) {
  return (
    <div className="panel">
      <h2>Components, timings and models</h2>
      <table className="table" data-testid="compare-components">
        <thead>
          <tr>
            <th>Component</th>
            <th>A</th>
            <th>B</th>
            <th className="num">Δ time (B − A)</th>
            <th>Models</th>
          </tr>
        </thead>
        <tbody>
          {data.components.map((c) => (
            <tr key={c.name} className={c.same_models === false ? 'diff' : ''}>
              <td className="mono">{c.name}</td>
              <td>{sideCell(c.a)}</td>
              <td>{sideCell(c.b)}</td>
              <td className="num">{c.a && c.b ? formatMs(c.b.duration_ms - c.a.duration_ms) : '—'}</td>
              <td className="small">
                {c.same_models === null
                  ? c.a && c.b
                    ? 'no model'
                    : '—'
                  : c.same_models
                    ? 'same model signature'
                    : `differ: ${shortHash(c.a!.model_signature)} vs ${shortHash(c.b!.model_signature)}`}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function FeaturesDiff({ data }: { data: RunComparison }) {
  if (data.features.length === 0) {
    return (
      <div className="panel">
        <h2>Aggregates</h2>
        <EmptyState title="No scalar features in either run">Audio, text and video_aggregates write the features compared here; neither run has them.</EmptyState>
      </div>
    );
  }
  return (
    <div className="panel">
      <h2>Aggregates</h2>
      <table className="table compact" data-testid="compare-features">
        <thead>
          <tr>
            <th>Component</th>
            <th>Feature</th>
            <th className="num">A</th>
            <th className="num">B</th>
            <th className="num">Δ (B − A)</th>
          </tr>
        </thead>
        <tbody>
          {data.features.map((f) => (
            <tr key={`${f.component}/${f.name}`}>
              <td className="mono small">{f.component}</td>
              <td className="mono">{f.name}</td>
              <td className="num">{formatNumber(f.a)}</td>
              <td className="num">{formatNumber(f.b)}</td>
              <td className="num">{formatNumber(f.delta)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function AlignedTimelines({ a, b }: { a: TimelineData; b: TimelineData }) {
  const duration = Math.max(a.duration_sec ?? 0, b.duration_sec ?? 0);
  const [view, setView] = useState<Viewport>([0, duration || 1]);
  const [cursor, setCursor] = useState<number | null>(null);
  return (
    <div data-testid="aligned-timelines">
      {[a, b].map((t, i) => (
        <AlignedTrack key={i} label={i === 0 ? 'A' : 'B'} data={t} view={view} cursor={cursor} onView={setView} onCursor={setCursor} />
      ))}
      <button type="button" onClick={() => setView([0, duration || 1])}>
        Fit
      </button>
    </div>
  );
}

function AlignedTrack({ label, data, view, cursor, onView, onCursor }: { label: string; data: TimelineData; view: Viewport; cursor: number | null; onView(v: Viewport): void; onCursor(t: number): void }) {
  const signals = data.signals.available ? data.signals : null;
  const series = useMemo<ChartSeries[]>(() => (signals ? [{ label: `${label}: motion`, values: signals.motion, color: label === 'A' ? '#58a6ff' : '#f0883e' }] : []), [signals, label]);
  const markers = useMemo(() => (data.shots.available ? data.shots.start_sec.slice(1) : (signals?.cut_times ?? new Float64Array(0))), [data, signals]);
  return (
    <>
      <div className="track-label">
        {label}: {data.run.run_id} <span className="muted small">(dashed: {data.shots.available ? 'shot boundaries, cut_detection' : 'the segmenter\u2019s cut candidates'})</span>
      </div>
      {signals ? (
        <Chart times={signals.times} series={series} markers={markers} height={110} xRange={view} cursor={cursor} onSelectRange={(s, e) => onView([s, e])} onPickTime={onCursor} />
      ) : (
        <UnavailableNotice what="signals" unavailable={data.signals as Exclude<TimelineData['signals'], { available: true }>} />
      )}
    </>
  );
}
