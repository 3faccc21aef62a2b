import { useEffect, useMemo, useRef, useState, type KeyboardEvent, type PointerEvent, type RefObject } from 'react';
import type { ClipData, Maybe, PacingData, RunRef, TimelineData } from '../../../core/api/contract.js';
import { Chart, type ChartSeries } from '../components/Chart.js';
import { FrameCanvas, frameAt } from '../components/FrameCanvas.js';
import { EmptyState, ErrorNotice, Loading, UnavailableNotice } from '../components/Notice.js';
import { formatNumber, formatTime } from '../format.js';
import { useApi } from '../hooks.js';
import { refPath } from '../route.js';
import { useApp } from '../store.js';
import { keyNavigate, nearestIndex, segmentAt, segmentsFrom, type Segment, type TimelineState, type Viewport } from '../timeline.js';

const THUMB_SLOT_PX = 120;
const CHART_HEIGHT = 120;
/**
 * Where a bin of digital silence (loudness -∞ LUFS) is drawn: EBU R128's absolute gate, below which nothing counts
 * as programme loudness. Only the line sits there; the readout says "digital silence".
 */
const SILENCE_FLOOR_LUFS = -70;
/** Loudness axes span at least this many LU, so that a steady level draws flat rather than as magnified noise. */
const LOUDNESS_MIN_SPAN_LU = 12;

/**
 * Shots over time: thumbnails, segments between cuts with their markers, the cheap-signal curves, faces and audio
 * tracks where their components ran; zoom (drag, + / −), scrub (drag on the strips) and keyboard navigation.
 */
export function TimelineView({ run }: { run: RunRef }) {
  const timeline = useApi('views.timeline', { run });
  if (timeline.error) return <ErrorNotice error={timeline.error} />;
  if (!timeline.data) return <Loading what="timeline" />;
  const data = timeline.data;
  const duration = data.duration_sec ?? (data.curves[0] ? data.curves[0].times[data.curves[0].times.length - 1]! : null);
  if (duration === null || !(duration > 0)) {
    return (
      <section className="view" data-testid="view-timeline">
        <h1>Timeline</h1>
        {data.frames.available ? null : <UnavailableNotice what="timeline" unavailable={data.frames} />}
      </section>
    );
  }
  return <TimelineBody key={refPath(run)} run={run} data={data} duration={duration} />;
}

function TimelineBody({ run, data, duration }: { run: RunRef; data: TimelineData; duration: number }) {
  const setCursor = useApp((s) => s.setCursor);
  const hasClip = data.components.some((c) => c.name === 'core_clip' && c.status === 'ok');
  const clip = useApi('views.clip', hasClip ? { run } : null);
  const pacing = useApi('views.pacing', { run });
  const frameTimes = data.frames.available ? data.frames.times : new Float64Array(0);
  // shot boundaries: cut_detection's shots, else the segmenter's cut candidates
  const cutTimes = useMemo(() => (data.shots.available ? data.shots.start_sec.slice(1) : data.signals.available ? data.signals.cut_times : new Float64Array(0)), [data]);
  const segments = useMemo(() => segmentsFrom(cutTimes, duration), [cutTimes, duration]);
  const minSpan = Math.min(duration, Math.max(0.5, data.frames.available ? 4 / data.frames.analysis_fps : 0.5));
  const [state, setState] = useState<TimelineState>({ cursor: frameTimes[0] ?? 0, view: [0, duration], selected: null });

  const update = (next: TimelineState): void => {
    setState(next);
    setCursor(run, next.cursor);
  };
  const onKey = (event: KeyboardEvent<HTMLDivElement>): void => {
    const next = keyNavigate(event.key, event.shiftKey, state, { frameTimes, segments, duration, minSpan });
    if (next) {
      event.preventDefault();
      update(next);
    }
  };

  return (
    <section className="view timeline-view" data-testid="view-timeline">
      <header className="view-head">
        <h1>Timeline</h1>
        <div className="toolbar">
          <span className="muted" data-testid="timeline-cursor">
            cursor {formatTime(state.cursor)} · view {formatTime(state.view[0])}–{formatTime(state.view[1])}
          </span>
          <button type="button" aria-label="Zoom in" onClick={() => update(keyNavigate('+', false, state, { frameTimes, segments, duration, minSpan })!)}>
            +
          </button>
          <button type="button" aria-label="Zoom out" onClick={() => update(keyNavigate('-', false, state, { frameTimes, segments, duration, minSpan })!)}>
            −
          </button>
          <button type="button" onClick={() => update({ ...state, view: [0, duration] })}>
            Fit
          </button>
        </div>
      </header>
      <div
        className="timeline"
        tabIndex={0}
        role="application"
        aria-label="Shot timeline. Left and right arrows: previous or next frame; with Shift: previous or next cut; plus and minus: zoom; 0: fit; Enter: select the shot under the cursor; Escape: clear."
        onKeyDown={onKey}
        data-testid="timeline"
      >
        <p className="hint muted small">
          ←/→ frame · Shift+←/→ cut · +/− zoom · 0 fit · Enter select shot · drag on a chart to zoom, on the strips to scrub
        </p>
        <Strips state={state} segments={segments} data={data} onChange={update} />
        <Tracks data={data} pacing={pacing.data} state={state} onChange={update} />
        {pacing.error ? <ErrorNotice error={pacing.error} /> : null}
      </div>
      <Details run={run} data={data} state={state} segments={segments} clip={clip.data?.available ? clip.data : null} />
    </section>
  );
}

/** Time ↔ x within a strip for the current viewport. */
function timeAtX(view: Viewport, element: HTMLElement, clientX: number): number {
  const box = element.getBoundingClientRect();
  const ratio = Math.min(1, Math.max(0, (clientX - box.left) / box.width));
  return view[0] + ratio * (view[1] - view[0]);
}

function pct(view: Viewport, t: number): string {
  return `${((t - view[0]) / (view[1] - view[0])) * 100}%`;
}

function shotTitle(data: TimelineData, index: number, segment: Segment): string {
  const span = `${formatTime(segment.start)}–${formatTime(segment.end)}`;
  if (!data.shots.available) return `segment ${index + 1}: ${span}`;
  const confidence = data.shots.confidence[index]!;
  return `shot ${index + 1}: ${span}, begins with ${data.shots.transition[index]}${Number.isFinite(confidence) ? ` (confidence ${confidence.toFixed(2)})` : ''}`;
}

function Strips({ state, segments, data, onChange }: { state: TimelineState; segments: Segment[]; data: TimelineData; onChange(next: TimelineState): void }) {
  const { view } = state;
  // a press scrubs the cursor while held; a press and release in place on a shot also selects it
  const press = useRef<{ x: number; shot: number | null } | null>(null);
  const scrub = (event: PointerEvent<HTMLDivElement>, selected = state.selected): void => {
    onChange({ ...state, cursor: timeAtX(view, event.currentTarget, event.clientX), selected });
  };
  const handlers = {
    onPointerDown: (event: PointerEvent<HTMLDivElement>) => {
      const shot = (event.target as HTMLElement).closest<HTMLElement>('[data-shot]')?.dataset.shot;
      press.current = { x: event.clientX, shot: shot === undefined ? null : Number(shot) };
      event.currentTarget.setPointerCapture(event.pointerId);
      scrub(event);
    },
    onPointerMove: (event: PointerEvent<HTMLDivElement>) => {
      if (press.current) scrub(event);
    },
    onPointerUp: (event: PointerEvent<HTMLDivElement>) => {
      const pressed = press.current;
      press.current = null;
      if (pressed && pressed.shot !== null && Math.abs(event.clientX - pressed.x) < 4) scrub(event, pressed.shot);
    },
  };
  const visible = segments.map((s, i) => ({ ...s, i })).filter((s) => s.end > view[0] && s.start < view[1]);
  const ticks = useMemo(() => rulerTicks(view), [view]);
  return (
    <div className="strips" {...handlers}>
      <div className="ruler">
        {ticks.map((t) => (
          <span key={t} className="tick" style={{ left: pct(view, t) }}>
            {formatTime(t)}
          </span>
        ))}
      </div>
      <div className="track-label">{data.shots.available ? 'Shot thumbnails (cut_detection)' : 'Frames'}</div>
      {data.shots.available ? (
        <ShotThumbnailStrip run={data.run} segments={segments} present={data.shots.thumbnail_present} view={view} />
      ) : data.frames.available ? (
        <Thumbnails run={data.run} times={data.frames.times} view={view} />
      ) : (
        <UnavailableNotice what="thumbnails" unavailable={data.frames} />
      )}
      <div className="track-label">
        Shots{' '}
        <span className="muted small">
          {data.shots.available ? `(cut_detection: ${segments.length} shots)` : `(segments between the segmenter\u2019s cut candidates: ${data.shots.message})`}
        </span>
      </div>
      {data.shots.available || data.signals.available ? (
        <div className="segments" data-testid="segments">
          {visible.map((s) => (
            <div
              key={s.i}
              className={`segment${s.i % 2 ? ' odd' : ''}${state.selected === s.i ? ' selected' : ''}`}
              style={{ left: pct(view, Math.max(s.start, view[0])), width: pct([0, view[1] - view[0]], Math.min(s.end, view[1]) - Math.max(s.start, view[0])) }}
              title={shotTitle(data, s.i, s)}
              data-shot={s.i}
              data-testid="segment"
            >
              {s.i + 1}
            </div>
          ))}
        </div>
      ) : (
        <UnavailableNotice what="cut markers" unavailable={data.signals as Exclude<TimelineData['signals'], { available: true }>} />
      )}
      <div className="cursor-line" style={{ left: pct(view, state.cursor) }} />
    </div>
  );
}

function rulerTicks(view: Viewport): number[] {
  const span = view[1] - view[0];
  const steps = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600];
  const step = steps.find((s) => span / s <= 10) ?? 1200;
  const ticks: number[] = [];
  for (let t = Math.ceil(view[0] / step) * step; t <= view[1] + 1e-9; t += step) ticks.push(Math.round(t * 1000) / 1000);
  return ticks;
}

/** cut_detection's thumbnail of each visible shot, as many as fit side by side (at least one slot apart). */
function ShotThumbnailStrip({ run, segments, present, view }: { run: RunRef; segments: Segment[]; present: Uint8Array; view: Viewport }) {
  const ref = useRef<HTMLDivElement>(null);
  const width = useWidth(ref);
  const debounced = useSettledView(view);
  const picks = useMemo(() => {
    const chosen: number[] = [];
    let lastX = -Infinity;
    const pxPerSec = width / (debounced[1] - debounced[0]);
    segments.forEach((segment, i) => {
      const middle = (segment.start + segment.end) / 2;
      const x = (middle - debounced[0]) * pxPerSec;
      if (!present[i] || x < 0 || x > width || x - lastX < THUMB_SLOT_PX) return;
      chosen.push(i);
      lastX = x;
    });
    return chosen.slice(0, 64);
  }, [segments, present, debounced, width]);
  const slice = useApi('views.shot_thumbnails', width > 0 && picks.length > 0 ? { run, shots: picks } : null);
  return (
    <div ref={ref} className="thumbs" data-testid="thumbnails">
      {slice.error ? <ErrorNotice error={slice.error} /> : null}
      {slice.data?.shots.map((shot, k) => {
        const segment = segments[shot]!;
        const middle = (segment.start + segment.end) / 2;
        if (middle < view[0] || middle > view[1]) return null;
        return (
          <div key={shot} className="thumb" style={{ left: pct(view, middle) }} title={`shot ${shot + 1}`}>
            <FrameCanvas rgb={frameAt(slice.data!.rgb, slice.data!.width, slice.data!.height, k)} width={slice.data!.width} height={slice.data!.height} label={`shot ${shot + 1} thumbnail`} />
          </div>
        );
      })}
    </div>
  );
}

/** The viewport once it stopped moving for 120 ms: thumbnails are fetched for where a zoom or scrub ends. */
function useSettledView(view: Viewport): Viewport {
  const [settled, setSettled] = useState(view);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(view), 120);
    return () => clearTimeout(timer);
  }, [view[0], view[1]]);
  return settled;
}

function useWidth(ref: RefObject<HTMLElement | null>): number {
  const [width, setWidth] = useState(0);
  useEffect(() => {
    const observer = new ResizeObserver(([entry]) => setWidth(entry!.contentRect.width));
    observer.observe(ref.current!);
    return () => observer.disconnect();
  }, [ref]);
  return width;
}

/** One thumbnail per slot of the visible range, each the stored frame nearest the slot's centre time. */
function Thumbnails({ run, times, view }: { run: RunRef; times: Float64Array; view: Viewport }) {
  const ref = useRef<HTMLDivElement>(null);
  const width = useWidth(ref);
  const debounced = useSettledView(view);
  const picks = useMemo(() => {
    const slots = Math.max(1, Math.floor(width / THUMB_SLOT_PX));
    const frames = new Set<number>();
    for (let k = 0; k < slots; k++) {
      const index = nearestIndex(times, debounced[0] + ((k + 0.5) / slots) * (debounced[1] - debounced[0]));
      if (index >= 0) frames.add(index);
    }
    return [...frames].slice(0, 64);
  }, [width, debounced, times]);
  const slice = useApi('views.frames', width > 0 && picks.length > 0 ? { run, frames: picks, max_width: 192 } : null);
  return (
    <div ref={ref} className="thumbs" data-testid="thumbnails">
      {slice.error ? <ErrorNotice error={slice.error} /> : null}
      {slice.data
        ? slice.data.frames.map((index, k) => {
            const t = slice.data!.times[k]!;
            if (t < view[0] || t > view[1]) return null;
            return (
              <div key={index} className="thumb" style={{ left: pct(view, t) }} title={`frame ${index} at ${formatTime(t)}`}>
                <FrameCanvas rgb={frameAt(slice.data!.rgb, slice.data!.width, slice.data!.height, k)} width={slice.data!.width} height={slice.data!.height} label={`frame ${index}`} />
              </div>
            );
          })
        : null}
    </div>
  );
}

function Tracks({ data, pacing, state, onChange }: { data: TimelineData; pacing: Maybe<PacingData> | null; state: TimelineState; onChange(next: TimelineState): void }) {
  const select = (start: number, end: number): void => onChange({ ...state, view: [start, end] });
  const pick = (time: number): void => onChange({ ...state, cursor: time });
  const common = { xRange: state.view, cursor: state.cursor, onSelectRange: select, onPickTime: pick, height: CHART_HEIGHT };
  const signals = data.signals.available ? data.signals : null;
  const motionSeries = useMemo<ChartSeries[]>(
    () =>
      signals
        ? [
            { label: 'motion (mean |Δluma|)', values: signals.motion, color: '#58a6ff', scale: 'motion' },
            { label: 'picture change (hist. distance)', values: signals.hist_diff, color: '#f0883e', scale: 'change' },
          ]
        : [],
    [signals],
  );
  const lumaSeries = useMemo<ChartSeries[]>(() => (signals ? [{ label: 'mean luma', values: signals.luma, color: '#d2a8ff' }] : []), [signals]);
  const faces = data.faces.available ? data.faces : null;
  const faceSeries = useMemo<ChartSeries[]>(() => (faces ? [{ label: 'faces in frame', values: faces.counts, color: '#3fb950', stepped: true }] : []), [faces]);
  const status = (name: string): string => {
    const component = data.components.find((c) => c.name === name);
    return component ? `${name} is ${component.status} in this run` : `${name} is not in this run`;
  };
  const hasCurve = (id: string): boolean => data.curves.some((c) => c.id === id);
  return (
    <div className="tracks">
      {pacing?.available ? <PacingTracks pacing={pacing} markers={data.shots.available ? data.shots.start_sec.subarray(1) : undefined} common={common} /> : null}
      {signals ? (
        <>
          <div className="track-label">Motion and picture change (segmenter cheap signals)</div>
          <Chart times={signals.times} series={motionSeries} markers={signals.cut_times} testId="chart-motion" {...common} />
          <div className="track-label">Luma</div>
          <Chart times={signals.times} series={lumaSeries} markers={signals.cut_times} testId="chart-luma" {...common} />
        </>
      ) : null}
      <div className="track-label">Faces</div>
      {faces ? <Chart times={faces.times} series={faceSeries} testId="chart-faces" {...common} /> : !data.faces.available ? <UnavailableNotice what="face track" unavailable={data.faces} /> : null}
      {data.curves.map((curve) => (
        <CurveChart key={curve.id} curve={curve} common={common} />
      ))}
      <div className="missing-tracks small muted" data-testid="missing-tracks">
        {pacing && !pacing.available ? <div data-testid="pacing-missing">Pacing curves (cuts per minute, motion and loudness energy on a grid): {pacing.message}.</div> : null}
        {hasCurve('loudness_momentary') ? null : <div>Loudness: {status('loudness_extractor')}.</div>}
        {hasCurve('tempo_bpm') ? null : <div>Tempo: {status('tempo_extractor')}.</div>}
      </div>
    </div>
  );
}

type ChartCommon = Omit<Parameters<typeof Chart>[0], 'times' | 'series'>;

const gap = (what: string) => `no ${what} (mask)`;

/**
 * video_pacing's curves on its grid, right under the shot strip and on the same time axis: cuts per minute, motion
 * energy (segmenter motion; optical flow where core_optical_flow ran) and loudness energy. Bins a mask marks as
 * missing arrive as NaN and are drawn as gaps; the hover readout names them.
 */
function PacingTracks({ pacing, markers, common }: { pacing: PacingData; markers: Float64Array | undefined; common: ChartCommon }) {
  const bin = `${formatNumber(pacing.grid_step_sec)} s bins`;
  const hasFlow = pacing.flow_present.some(Boolean);
  const hasLoudness = pacing.loudness_present.some(Boolean);
  const rate = useMemo<ChartSeries[]>(
    () => [{ label: `cuts per minute (${formatNumber(pacing.cut_rate_window_sec)} s window)`, values: pacing.cut_rate_per_min, color: '#ff7b72', format: (v) => (v === null ? '—' : `${v.toFixed(1)}/min`) }],
    [pacing],
  );
  const motion = useMemo<ChartSeries[]>(
    () => [
      { label: 'motion energy (mean |Δluma|)', values: pacing.motion_energy, color: '#58a6ff', scale: 'motion', format: (v) => (v === null ? gap('analysis frame') : v.toPrecision(3)) },
      ...(hasFlow
        ? [{ label: 'optical-flow energy ((diag/s)²)', values: pacing.flow_motion_energy, color: '#a5d6ff', scale: 'flow', format: (v: number | null) => (v === null ? gap('flow pair') : v.toPrecision(3)) }]
        : []),
    ],
    [pacing, hasFlow],
  );
  const loudness = useMemo<ChartSeries[]>(
    () => [
      {
        label: 'loudness energy (LUFS)',
        minSpan: LOUDNESS_MIN_SPAN_LU,
        values: Float32Array.from(pacing.loudness_lufs, (v) => (v === Number.NEGATIVE_INFINITY ? SILENCE_FLOOR_LUFS : v)),
        color: '#e3b341',
        format: (v, i) => (pacing.loudness_lufs[i] === Number.NEGATIVE_INFINITY ? 'digital silence (−∞)' : v === null ? gap('audio') : `${v.toFixed(1)} LUFS`),
      },
    ],
    [pacing],
  );
  return (
    <div data-testid="pacing-tracks">
      <div className="track-label">
        Cuts per minute <span className="muted small">(video_pacing, {bin})</span>
      </div>
      <Chart times={pacing.times} series={rate} markers={markers} testId="chart-pacing-cut-rate" {...common} />
      <div className="track-label">
        Motion energy <span className="muted small">(video_pacing, {bin}{hasFlow ? '' : '; no optical flow: core_optical_flow is not in this run or found no pairs'})</span>
      </div>
      <Chart times={pacing.times} series={motion} markers={markers} testId="chart-pacing-motion" {...common} />
      <div className="track-label">
        Loudness energy <span className="muted small">(video_pacing, {bin}{hasLoudness ? `; digital silence drawn at ${SILENCE_FLOOR_LUFS} LUFS` : '; no audio: every bin is a gap'})</span>
      </div>
      <Chart times={pacing.times} series={loudness} markers={markers} testId="chart-pacing-loudness" {...common} />
    </div>
  );
}

function CurveChart({ curve, common }: { curve: TimelineData['curves'][number]; common: ChartCommon }) {
  const series = useMemo<ChartSeries[]>(
    () => [{ label: `${curve.label} (${curve.unit})`, values: curve.values, color: '#e3b341', ...(curve.unit === 'LUFS' ? { minSpan: LOUDNESS_MIN_SPAN_LU } : {}) }],
    [curve],
  );
  return (
    <>
      <div className="track-label">
        {curve.label} <span className="muted small">({curve.component})</span>
      </div>
      <Chart times={curve.times} series={series} testId={`chart-${curve.id}`} {...common} />
    </>
  );
}

/** The frame under the cursor, and the selected shot's frames with CLIP prompt scores. */
function Details({ run, data, state, segments, clip }: { run: RunRef; data: TimelineData; state: TimelineState; segments: Segment[]; clip: ClipData | null }) {
  const times = data.frames.available ? data.frames.times : null;
  const at = times ? nearestIndex(times, state.cursor) : -1;
  const preview = useApi('views.frames', at >= 0 ? { run, frames: [at], max_width: 480 } : null);
  const segment = state.selected === null ? null : segments[state.selected] ?? null;
  const inShot = useMemo(() => {
    if (!segment || !times) return [];
    const all: number[] = [];
    for (let i = 0; i < times.length; i++) if (times[i]! >= segment.start && times[i]! < segment.end) all.push(i);
    // at most 8, spread over the shot
    return all.length <= 8 ? all : Array.from({ length: 8 }, (_, k) => all[Math.round((k * (all.length - 1)) / 7)]!);
  }, [segment, times]);
  const shotFrames = useApi('views.frames', inShot.length > 0 ? { run, frames: inShot, max_width: 160 } : null);
  const scores = useMemo(() => (clip && segment ? promptScores(clip, segment) : null), [clip, segment]);
  return (
    <div className="details grid-2">
      <div className="panel" data-testid="frame-preview">
        <h2>Frame at {formatTime(state.cursor)}</h2>
        {preview.data ? (
          <>
            <FrameCanvas className="preview" rgb={preview.data.rgb} width={preview.data.width} height={preview.data.height} label={`frame ${at}`} />
            <div className="small muted">
              stored frame {at} · {formatTime(preview.data.times[0]!)} · shot {segmentAt(segments, state.cursor) + 1} of {segments.length}
            </div>
          </>
        ) : data.frames.available ? (
          <Loading what="frame" />
        ) : (
          <UnavailableNotice what="frames" unavailable={data.frames} />
        )}
      </div>
      <div className="panel" data-testid="shot-details">
        {segment ? (
          <>
            <h2>
              Shot {state.selected! + 1}: {formatTime(segment.start)}–{formatTime(segment.end)} ({formatNumber(segment.end - segment.start)} s)
            </h2>
            <div className="small muted">{shotTitle(data, state.selected!, segment)}</div>
            <div className="shot-frames">
              {shotFrames.data?.frames.map((index, k) => (
                <FrameCanvas key={index} rgb={frameAt(shotFrames.data!.rgb, shotFrames.data!.width, shotFrames.data!.height, k)} width={shotFrames.data!.width} height={shotFrames.data!.height} label={`frame ${index}`} />
              ))}
            </div>
            {scores ? (
              <table className="table compact" data-testid="shot-scores">
                <thead>
                  <tr>
                    <th>CLIP prompt (mean cosine over {scores.frames} frames)</th>
                    <th className="num">score</th>
                  </tr>
                </thead>
                <tbody>
                  {scores.rows.slice(0, 6).map((row) => (
                    <tr key={row.prompt}>
                      <td>{row.prompt}</td>
                      <td className="num">{formatNumber(row.score)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : (
              <p className="muted small">{clip ? 'core_clip embedded no frame inside this shot.' : 'Prompt scores need core_clip, which is not in this run (or failed).'}</p>
            )}
          </>
        ) : (
          <EmptyState title="No shot selected">Click a shot in the strip, or press Enter on the timeline, to see its frames and scores.</EmptyState>
        )}
      </div>
    </div>
  );
}

/** Mean cosine of each prompt over the core_clip frames inside a shot, best first. */
function promptScores(clip: ClipData, segment: Segment): { frames: number; rows: Array<{ prompt: string; score: number }> } | null {
  if (!clip.times) return null;
  const columns: number[] = [];
  for (let c = 0; c < clip.rows; c++) if (clip.times[c]! >= segment.start && clip.times[c]! < segment.end) columns.push(c);
  if (columns.length === 0) return null;
  const rows = clip.prompts.map((prompt, p) => ({ prompt, score: columns.reduce((sum, c) => sum + clip.prompt_scores[p * clip.rows + c]!, 0) / columns.length }));
  return { frames: columns.length, rows: rows.sort((a, b) => b.score - a.score) };
}
