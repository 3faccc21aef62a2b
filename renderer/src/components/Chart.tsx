/**
 * Time-series track on uPlot (≈50 kB, canvas, built for long series): axes, ticks and a hover legend for free,
 * while the timeline owns the shared viewport and cursor. Drag selects a range to zoom; a click moves the cursor.
 * Missing values (NaN) are drawn as gaps, never as zeros.
 */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  values: ArrayLike<number>;
  color: string;
  /** Series sharing a scale share a y axis; the second scale gets a right-hand axis. */
  scale?: string;
  stepped?: boolean;
  /**
   * The least span of the series' y axis, centred on its data: a nearly flat series (a steady tone's loudness)
   * then looks flat instead of filling the height with noise. Default: uPlot's own range.
   */
  minSpan?: number;
  /** The hover readout of the value at data index `index` (null: a gap); default 3 significant digits, a gap as —. */
  format?(value: number | null, index: number): string;
}

export interface ChartProps {
  times: ArrayLike<number>;
  series: ChartSeries[];
  height: number;
  xRange: [number, number];
  cursor: number | null;
  /** Vertical markers (cut times), drawn dashed. */
  markers?: ArrayLike<number>;
  onSelectRange?(start: number, end: number): void;
  onPickTime?(time: number): void;
  testId?: string;
}

const AXIS = { stroke: '#9aa4b2', grid: { stroke: 'rgba(255,255,255,0.06)' }, ticks: { stroke: 'rgba(255,255,255,0.1)' } };

/**
 * Width of the y axis on each side. Every chart reserves it on both sides (an axis or padding), so all plot
 * areas, and the timeline strips (styles.css `.strips`), span the same pixels: one time is one x everywhere.
 */
export const CHART_GUTTER_PX = 56;

export function Chart(props: ChartProps) {
  const { times, series, height, testId } = props;
  const container = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  // hooks read the latest props without recreating the chart
  const latest = useRef(props);
  latest.current = props;

  useEffect(() => {
    const element = container.current!;
    const scales = [...new Set(series.map((s) => s.scale ?? 'y'))];
    const options: uPlot.Options = {
      width: Math.max(200, element.clientWidth),
      height,
      legend: { show: true, live: true },
      padding: [8, scales.length > 1 ? 0 : CHART_GUTTER_PX, 0, 0],
      cursor: { drag: { x: true, y: false, setScale: false } },
      scales: {
        x: { time: false, range: () => latest.current.xRange },
        ...Object.fromEntries(
          series
            .filter((s) => s.minSpan !== undefined)
            .map((s) => [
              s.scale ?? 'y',
              {
                range: (_u: uPlot, min: number | null, max: number | null): uPlot.Range.MinMax => {
                  if (min === null || max === null) return [min, max];
                  const half = Math.max((max - min) / 2, s.minSpan! / 2);
                  return [(min + max) / 2 - half, (min + max) / 2 + half];
                },
              },
            ]),
        ),
      },
      axes: [
        { ...AXIS, values: (_u, ticks) => ticks.map((t) => `${t.toFixed(t < 10 ? 1 : 0)}s`) },
        ...scales.slice(0, 2).map((scale, i) => ({ ...AXIS, scale, side: i === 0 ? 3 : 1, size: CHART_GUTTER_PX, ...(i === 1 ? { grid: { show: false } } : {}) })),
      ],
      series: [
        { label: 'time (s)', value: (_u, v) => (v === null ? '—' : `${v.toFixed(2)} s`) },
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 1.5,
          scale: s.scale ?? 'y',
          spanGaps: false,
          ...(s.stepped ? { paths: uPlot.paths.stepped!({ align: 1 }) } : {}),
          value: (_u: uPlot, v: number | null, _series: number, index: number | null) =>
            s.format && index !== null ? s.format(v, index) : v === null ? '—' : v.toPrecision(3),
        })),
      ],
      hooks: {
        draw: [
          (u) => {
            const { ctx } = u;
            const top = u.bbox.top;
            const bottom = u.bbox.top + u.bbox.height;
            const ratio = uPlot.pxRatio;
            ctx.save();
            ctx.lineWidth = ratio;
            ctx.strokeStyle = 'rgba(255, 200, 80, 0.55)';
            ctx.setLineDash([4 * ratio, 3 * ratio]);
            const markers = latest.current.markers ?? [];
            for (let i = 0; i < markers.length; i++) {
              const x = u.valToPos(markers[i]!, 'x', true);
              if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
              ctx.beginPath();
              ctx.moveTo(x, top);
              ctx.lineTo(x, bottom);
              ctx.stroke();
            }
            const cursor = latest.current.cursor;
            if (cursor !== null) {
              const x = u.valToPos(cursor, 'x', true);
              ctx.setLineDash([]);
              ctx.strokeStyle = '#ff5d8f';
              ctx.lineWidth = 2 * ratio;
              ctx.beginPath();
              ctx.moveTo(x, top);
              ctx.lineTo(x, bottom);
              ctx.stroke();
            }
            ctx.restore();
          },
        ],
        setSelect: [
          (u) => {
            if (u.select.width > 4) {
              const start = u.posToVal(u.select.left, 'x');
              const end = u.posToVal(u.select.left + u.select.width, 'x');
              latest.current.onSelectRange?.(start, end);
            }
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          },
        ],
      },
    };
    const data: uPlot.AlignedData = [Array.from(times), ...series.map((s) => Array.from(s.values, (v) => (Number.isFinite(v) ? v : null)))];
    const chart = new uPlot(options, data, element);
    plot.current = chart;
    let downX = 0;
    const down = (event: MouseEvent): void => {
      downX = event.clientX;
    };
    const click = (event: MouseEvent): void => {
      if (Math.abs(event.clientX - downX) > 4 || chart.cursor.left === undefined || chart.cursor.left < 0) return;
      latest.current.onPickTime?.(chart.posToVal(chart.cursor.left, 'x'));
    };
    chart.over.addEventListener('mousedown', down);
    chart.over.addEventListener('click', click);
    const observer = new ResizeObserver(() => chart.setSize({ width: Math.max(200, element.clientWidth), height }));
    observer.observe(element);
    return () => {
      observer.disconnect();
      chart.destroy();
      plot.current = null;
    };
  }, [times, series, height]);

  // viewport, cursor and markers only redraw
  useEffect(() => {
    const chart = plot.current;
    if (!chart) return;
    chart.setScale('x', { min: props.xRange[0], max: props.xRange[1] });
  }, [props.xRange[0], props.xRange[1]]);
  useEffect(() => {
    plot.current?.redraw(false, false);
  }, [props.cursor, props.markers]);

  return <div ref={container} className="chart" data-testid={testId} />;
}
