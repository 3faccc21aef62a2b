import { useMemo, useState } from 'react';
import type { PredictionData, RunRef } from '../../../core/api/contract.js';
import { EmptyState, ErrorNotice, Loading } from '../components/Notice.js';
import { formatCount, formatNumber } from '../format.js';
import { useApi } from '../hooks.js';

type Scale = 'counts' | 'log1p';

/** Quantiles are float32 in the artifact: a level matches within this. */
const LEVEL_TOLERANCE = 1e-4;
/** The central intervals drawn, widest first, where the model reports both ends. */
const INTERVALS = [
  { low: 0.025, high: 0.975, label: '95 %' },
  { low: 0.05, high: 0.95, label: '90 %' },
  { low: 0.1, high: 0.9, label: '80 %' },
] as const;

interface Head {
  name: string;
  horizon: number | null;
  /** The head's quantiles, in the order of `quantiles`. */
  log1p: number[];
  value: number[];
  confidence: number;
}

interface Metric {
  metric: string;
  heads: Head[];
}

/**
 * The views/likes forecast: per metric a fan of the central intervals over the horizons (7/14/21 days) around the
 * p50, in counts (log axis) or log1p, and a table of the numbers; the model that predicted, and in a warning colour
 * when it was a fallback, with the primary model's failure. Runs without a prediction say why.
 */
export function PredictionView({ run }: { run: RunRef }) {
  const prediction = useApi('views.prediction', { run });
  const [scale, setScale] = useState<Scale>('counts');
  if (prediction.error) return <ErrorNotice error={prediction.error} />;
  if (!prediction.data) return <Loading what="prediction" />;
  const data = prediction.data;
  return (
    <section className="view" data-testid="view-prediction">
      <header className="view-head">
        <h1>Prediction</h1>
        {data.available ? (
          <div className="choices" role="radiogroup" aria-label="Scale">
            <span className="muted">Scale</span>
            {(['counts', 'log1p'] as const).map((s) => (
              <label key={s} className="inline">
                <input type="radio" name="prediction-scale" checked={scale === s} onChange={() => setScale(s)} /> {s === 'counts' ? 'counts (log axis)' : 'log1p'}
              </label>
            ))}
          </div>
        ) : null}
      </header>
      {!data.available ? (
        data.why === 'component_not_in_run' ? (
          <EmptyState title="No prediction in this run">
            The profile of this run has no prediction component. Views and likes forecasts (p10/p50/p90 per target and 7/14/21-day horizon, with a confidence score)
            come from it; nothing is estimated here without a model.
          </EmptyState>
        ) : (
          <EmptyState title={data.why === 'component_error' ? 'The prediction failed' : 'The prediction is empty'} testId="prediction-unavailable">
            {data.message}
          </EmptyState>
        )
      ) : (
        <PredictionBody data={data} scale={scale} />
      )}
    </section>
  );
}

function PredictionBody({ data, scale }: { data: PredictionData; scale: Scale }) {
  const quantiles = Array.from(data.quantiles);
  const metrics = useMemo(() => groupByMetric(data), [data]);
  return (
    <>
      <div className="panel" data-testid="prediction-model">
        <h2>
          Model <span className={`badge badge-${data.status === 'ok' ? 'ok' : 'degraded'}`} data-testid="prediction-status">{data.status}</span>
        </h2>
        {data.status === 'degraded' ? (
          <div className="warning" data-testid="prediction-fallback">
            A fallback model predicted, because the primary model failed: {data.fallback_reason ?? <code>{data.primary_error_code ?? 'no reason recorded'}</code>}
          </div>
        ) : null}
        <dl className="facts">
          <dt>Model</dt>
          <dd>
            {data.model_type} {data.model_version}
            {data.model_name ? <span className="muted"> · {data.model_name}</span> : null}
          </dd>
          <dt>Feature schema</dt>
          <dd>
            {data.feature_schema_version} · {data.features.present} of {data.features.total} feature columns present
            {data.optional_sources_missing.length ? <span className="muted"> (missing optional sources: {data.optional_sources_missing.join(', ')})</span> : null}
          </dd>
          <dt>Age at snapshot 1</dt>
          <dd>{data.age_bucket ?? 'unknown'}</dd>
          <dt>Quantiles</dt>
          <dd>{quantiles.map((q) => `p${formatNumber(Math.round(q * 1000) / 10)}`).join(' · ')}</dd>
        </dl>
      </div>
      <div className="prediction-grid">
        {metrics.map((metric) => (
          <div className="panel" key={metric.metric} data-testid={`prediction-${metric.metric}`}>
            <h2>{metric.metric}: gain after snapshot 1</h2>
            <div className="fan-row">
              <FanChart metric={metric} quantiles={quantiles} scale={scale} />
              <FanLegend quantiles={quantiles} />
            </div>
            <HeadTable metric={metric} quantiles={quantiles} />
          </div>
        ))}
      </div>
    </>
  );
}

function groupByMetric(data: PredictionData): Metric[] {
  const Q = data.quantiles.length;
  const metrics: Metric[] = [];
  data.targets.forEach((target, t) => {
    const metric = target.metric ?? target.name;
    let entry = metrics.find((m) => m.metric === metric);
    if (!entry) metrics.push((entry = { metric, heads: [] }));
    entry.heads.push({
      name: target.name,
      horizon: target.horizon_days,
      log1p: Array.from(data.pred_log1p.subarray(t * Q, (t + 1) * Q)),
      value: Array.from(data.pred_value.subarray(t * Q, (t + 1) * Q)),
      confidence: data.confidence_score[t]!,
    });
  });
  for (const m of metrics) m.heads.sort((a, b) => (a.horizon ?? 0) - (b.horizon ?? 0));
  return metrics;
}

const levelIndex = (quantiles: number[], level: number): number => quantiles.findIndex((q) => Math.abs(q - level) < LEVEL_TOLERANCE);

const WIDTH = 520;
const HEIGHT = 250;
const PAD = { left: 62, right: 16, top: 12, bottom: 34 };

/**
 * The fan: bands between the central intervals' ends joined across the horizons (widest palest), the p50 line
 * with its points. Positions are log1p in both scales, so the counts scale is a log axis labelled in counts.
 */
function FanChart({ metric, quantiles, scale }: { metric: Metric; quantiles: number[]; scale: Scale }) {
  const heads = metric.heads;
  const mid = levelIndex(quantiles, 0.5);
  const all = heads.flatMap((h) => h.log1p);
  const lo = Math.max(0, Math.floor(Math.min(...all)));
  const hi = Math.ceil(Math.max(...all));
  const span = Math.max(1, hi - lo);
  const x = (k: number): number => PAD.left + ((k + 0.5) / heads.length) * (WIDTH - PAD.left - PAD.right);
  const y = (v: number): number => HEIGHT - PAD.bottom - ((v - lo) / span) * (HEIGHT - PAD.top - PAD.bottom);
  const ticks =
    scale === 'log1p'
      ? Array.from({ length: span + 1 }, (_, i) => ({ at: lo + i, label: String(lo + i) })).filter((_, i, list) => list.length <= 8 || i % 2 === 0)
      : Array.from({ length: 10 }, (_, p) => 10 ** p)
          .map((count) => ({ at: Math.log1p(count), label: formatCount(count) }))
          .filter((tick) => tick.at >= lo && tick.at <= hi);
  const bands = INTERVALS.map((interval) => ({ ...interval, low: levelIndex(quantiles, interval.low), high: levelIndex(quantiles, interval.high) })).filter((b) => b.low >= 0 && b.high >= 0);
  const shown = (h: Head, q: number): string => (scale === 'counts' ? formatCount(h.value[q]!) : formatNumber(h.log1p[q]!));
  return (
    <svg className="fan-chart" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={`${metric.metric} forecast intervals by horizon`} data-testid="fan-chart">
      {ticks.map((tick) => (
        <g key={tick.at}>
          <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y(tick.at)} y2={y(tick.at)} className="fan-grid" />
          <text x={PAD.left - 6} y={y(tick.at) + 4} className="fan-tick" textAnchor="end">
            {tick.label}
          </text>
        </g>
      ))}
      {bands.map((band) => (
        <g key={band.label} className={`fan-band fan-band-${band.label.replace(' %', '')}`} data-testid="fan-band">
          <polygon points={[...heads.map((h, k) => `${x(k)},${y(h.log1p[band.high]!)}`), ...heads.map((h, k) => `${x(k)},${y(h.log1p[band.low]!)}`).reverse()].join(' ')} />
          {heads.map((h, k) => (
            <line key={h.name} x1={x(k)} x2={x(k)} y1={y(h.log1p[band.low]!)} y2={y(h.log1p[band.high]!)}>
              <title>{`${h.name}: ${band.label} interval ${shown(h, band.low)} – ${shown(h, band.high)}`}</title>
            </line>
          ))}
        </g>
      ))}
      {mid >= 0 ? (
        <>
          <polyline className="fan-median" points={heads.map((h, k) => `${x(k)},${y(h.log1p[mid]!)}`).join(' ')} />
          {heads.map((h, k) => (
            <circle key={h.name} cx={x(k)} cy={y(h.log1p[mid]!)} r={4} className="fan-median-point">
              <title>{`${h.name}: p50 ${shown(h, mid)} (confidence ${h.confidence.toFixed(2)})`}</title>
            </circle>
          ))}
        </>
      ) : null}
      {heads.map((h, k) => (
        <text key={h.name} x={x(k)} y={HEIGHT - 12} className="fan-tick" textAnchor="middle">
          {h.horizon === null ? h.name : `${h.horizon} days`}
        </text>
      ))}
      <text x={12} y={PAD.top + 4} className="fan-tick" transform={`rotate(-90 12 ${PAD.top + 4})`} textAnchor="end">
        {scale === 'counts' ? `${metric.metric} (log axis)` : `log1p(${metric.metric})`}
      </text>
    </svg>
  );
}

function FanLegend({ quantiles }: { quantiles: number[] }) {
  const shown = INTERVALS.filter((i) => levelIndex(quantiles, i.low) >= 0 && levelIndex(quantiles, i.high) >= 0);
  return (
    <ul className="fan-legend small muted">
      <li>
        <span className="fan-swatch fan-swatch-median" /> p50 (hover a point for its value)
      </li>
      {shown.map((i) => (
        <li key={i.label}>
          <span className={`fan-swatch fan-swatch-${i.label.replace(' %', '')}`} /> {i.label} interval: p{formatNumber(i.low * 100)} – p{formatNumber(i.high * 100)}
        </li>
      ))}
    </ul>
  );
}

function HeadTable({ metric, quantiles }: { metric: Metric; quantiles: number[] }) {
  const at = (level: number) => levelIndex(quantiles, level);
  const [p10, p50, p90] = [at(0.1), at(0.5), at(0.9)];
  // beside p10–p90: the 90 % and 95 % intervals, narrower first, where the model reports them
  const wide = INTERVALS.slice(0, 2)
    .reverse()
    .filter((i) => at(i.low) >= 0 && at(i.high) >= 0);
  return (
    <table className="table compact prediction-table" data-testid="prediction-table">
      <thead>
        <tr>
          <th>Horizon</th>
          <th className="num">p50</th>
          <th className="num">p10 – p90</th>
          {wide.map((i) => (
            <th key={i.label} className="num">
              {i.label}
            </th>
          ))}
          <th className="num">log1p p10 / p50 / p90</th>
          <th className="num">Confidence</th>
        </tr>
      </thead>
      <tbody>
        {metric.heads.map((h) => (
          <tr key={h.name} data-testid="prediction-row">
            <td>{h.horizon === null ? h.name : `${h.horizon} d`}</td>
            <td className="num">{formatCount(h.value[p50]!)}</td>
            <td className="num">
              {formatCount(h.value[p10]!)} – {formatCount(h.value[p90]!)}
            </td>
            {wide.map((i) => (
              <td key={i.label} className="num">
                {formatCount(h.value[at(i.low)]!)} – {formatCount(h.value[at(i.high)]!)}
              </td>
            ))}
            <td className="num">
              {h.log1p[p10]!.toFixed(2)} / {h.log1p[p50]!.toFixed(2)} / {h.log1p[p90]!.toFixed(2)}
            </td>
            <td className="num">
              <span className="confidence-bar" style={{ width: `${Math.round(h.confidence * 40)}px` }} /> {h.confidence.toFixed(2)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
