/**
 * A heatmap drawn as one image: each matrix cell is one pixel of an offscreen canvas, scaled up without
 * smoothing. Hand-written rather than a plotting library because the data already is a typed array in the
 * renderer: an 800×800 similarity matrix goes to pixels directly, where a charting library would first turn it
 * into 640,000 boxed numbers (plotly's z: number[][]).
 */
import { useEffect, useMemo, useRef, useState, type MouseEvent } from 'react';
import { finiteRange, VIRIDIS, viridisCss } from '../colormap.js';
import { formatNumber } from '../format.js';

export interface HeatmapProps {
  values: Float32Array | Uint8Array;
  rows: number;
  cols: number;
  /** Colour scale bounds (default: finite min/max of the values). */
  range?: [number, number];
  /** CSS height; the width follows the container (or equals the height, at most the container's, when `square`). */
  height: number;
  square?: boolean;
  /** Labels under the plot at column positions (times of frames). */
  colTicks?: Array<{ col: number; label: string }>;
  /** Labels drawn left of each row (prompt texts, face slots). */
  rowLabels?: string[];
  /** Column (and, for square matrices, row) positions where a new segment starts. */
  colBoundaries?: number[];
  rowBoundaries?: number[];
  /** A column to mark (the timeline cursor). */
  markCol?: number | null;
  describe(row: number, col: number, value: number): string;
  onPick?(row: number, col: number): void;
  label: string;
  testId?: string;
}

export function Heatmap(props: HeatmapProps) {
  const { values, rows, cols, rowLabels, colBoundaries, rowBoundaries, markCol, describe, onPick, label, testId, square, colTicks } = props;
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [width, setWidth] = useState(0);
  const [hover, setHover] = useState<{ x: number; y: number; text: string } | null>(null);
  const [min, max] = useMemo(() => props.range ?? finiteRange(values), [props.range, values]);
  const height = square && width > 0 ? Math.min(props.height, width) : props.height;
  const plotWidth = square ? height : width;

  // the matrix as an image, once per data
  const image = useMemo(() => {
    const canvas = document.createElement('canvas');
    canvas.width = cols;
    canvas.height = rows;
    const pixels = new ImageData(cols, rows);
    const span = max - min || 1;
    for (let i = 0; i < rows * cols; i++) {
      const v = values[i]!;
      if (!Number.isFinite(v)) {
        // missing values are shown as a neutral grey, never as the scale's minimum
        pixels.data.set([60, 60, 66, 255], i * 4);
        continue;
      }
      const k = Math.round(Math.min(1, Math.max(0, (v - min) / span)) * 255) * 3;
      pixels.data[i * 4] = VIRIDIS[k]!;
      pixels.data[i * 4 + 1] = VIRIDIS[k + 1]!;
      pixels.data[i * 4 + 2] = VIRIDIS[k + 2]!;
      pixels.data[i * 4 + 3] = 255;
    }
    canvas.getContext('2d')!.putImageData(pixels, 0, 0);
    return canvas;
  }, [values, rows, cols, min, max]);

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    const observer = new ResizeObserver(([entry]) => setWidth(Math.floor(entry!.contentRect.width)));
    observer.observe(canvas.parentElement!);
    return () => observer.disconnect();
  }, []);

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || width === 0) return;
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(plotWidth * ratio);
    canvas.height = Math.round(height * ratio);
    canvas.style.width = `${plotWidth}px`;
    canvas.style.height = `${height}px`;
    const ctx = canvas.getContext('2d')!;
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
    const cw = canvas.width / cols;
    const rh = canvas.height / rows;
    ctx.strokeStyle = 'rgba(255, 255, 255, 0.85)';
    ctx.lineWidth = Math.max(1, ratio);
    ctx.beginPath();
    for (const c of colBoundaries ?? []) {
      ctx.moveTo(c * cw, 0);
      ctx.lineTo(c * cw, canvas.height);
    }
    for (const r of rowBoundaries ?? []) {
      ctx.moveTo(0, r * rh);
      ctx.lineTo(canvas.width, r * rh);
    }
    ctx.stroke();
    if (markCol !== null && markCol !== undefined) {
      ctx.strokeStyle = '#ff5d8f';
      ctx.lineWidth = 2 * ratio;
      ctx.strokeRect(markCol * cw, 0, Math.max(cw, 2 * ratio), canvas.height);
    }
  }, [image, plotWidth, height, rows, cols, colBoundaries, rowBoundaries, markCol]);

  const cellAt = (event: MouseEvent<HTMLCanvasElement>): { row: number; col: number } => {
    const box = event.currentTarget.getBoundingClientRect();
    const col = Math.min(cols - 1, Math.max(0, Math.floor(((event.clientX - box.left) / box.width) * cols)));
    const row = Math.min(rows - 1, Math.max(0, Math.floor(((event.clientY - box.top) / box.height) * rows)));
    return { row, col };
  };

  return (
    <div className="heatmap" data-testid={testId}>
      {rowLabels ? (
        <div className="heatmap-rows" style={{ height }}>
          {rowLabels.map((text, i) => (
            <div key={i} className="heatmap-row-label" style={{ height: height / rows, lineHeight: `${height / rows}px` }} title={text}>
              {text}
            </div>
          ))}
        </div>
      ) : null}
      <div className="heatmap-plot">
        <canvas
          ref={canvasRef}
          role="img"
          aria-label={label}
          onMouseMove={(event) => {
            const { row, col } = cellAt(event);
            const box = event.currentTarget.getBoundingClientRect();
            setHover({ x: event.clientX - box.left, y: event.clientY - box.top, text: describe(row, col, values[row * cols + col]!) });
          }}
          onMouseLeave={() => setHover(null)}
          onClick={(event) => {
            const { row, col } = cellAt(event);
            onPick?.(row, col);
          }}
        />
        {colTicks && plotWidth > 0 ? (
          <div className="heatmap-ticks" style={{ width: plotWidth }}>
            {colTicks.map((tick) => (
              <span key={tick.col} style={{ left: `${((tick.col + 0.5) / cols) * 100}%` }}>
                {tick.label}
              </span>
            ))}
          </div>
        ) : null}
        {hover ? (
          <div className="tooltip" style={{ left: hover.x + 12, top: hover.y + 12 }}>
            {hover.text}
          </div>
        ) : null}
      </div>
      <ColorBar min={min} max={max} height={height} />
    </div>
  );
}

function ColorBar({ min, max, height }: { min: number; max: number; height: number }) {
  const stops = Array.from({ length: 9 }, (_, i) => `${viridisCss(min + ((max - min) * (8 - i)) / 8, min, max)} ${(i / 8) * 100}%`);
  return (
    <div className="colorbar" style={{ height }}>
      <div className="colorbar-ramp" style={{ background: `linear-gradient(${stops.join(', ')})` }} />
      <div className="colorbar-labels">
        <span>{formatNumber(max)}</span>
        <span>{formatNumber(min)}</span>
      </div>
    </div>
  );
}
