import { useEffect, useMemo, useRef, useState } from 'react';
import type { FaceLandmarks, FacesData, FramesSlice, RunRef } from '../../../core/api/contract.js';
import { FrameCanvas } from '../components/FrameCanvas.js';
import { Heatmap } from '../components/Heatmap.js';
import { EmptyState, ErrorNotice, Loading, UnavailableNotice } from '../components/Notice.js';
import { formatTime } from '../format.js';
import { useApi } from '../hooks.js';
import { columnTicks } from '../timeline.js';

/** core_face_landmarks: presence over time × face slot, and the FaceMesh landmarks drawn over a chosen frame. */
export function FacesView({ run }: { run: RunRef }) {
  const faces = useApi('views.faces', { run });
  if (faces.error) return <ErrorNotice error={faces.error} />;
  if (!faces.data) return <Loading what="faces" />;
  return (
    <section className="view" data-testid="view-faces">
      <header className="view-head">
        <h1>Faces</h1>
      </header>
      {faces.data.available ? <FacesBody run={run} faces={faces.data} /> : <UnavailableNotice what="face landmarks" unavailable={faces.data} />}
    </section>
  );
}

function FacesBody({ run, faces }: { run: RunRef; faces: FacesData }) {
  const n = faces.frame_indices.length;
  // slots × frames for the heatmap (the artifact is frames × slots)
  const matrix = useMemo(() => {
    const out = new Float32Array(faces.slots * n);
    for (let row = 0; row < n; row++) {
      for (let slot = 0; slot < faces.slots; slot++) {
        const present = faces.present[row * faces.slots + slot] === 1;
        const score = faces.scores ? faces.scores[row * faces.slots + slot]! : NaN;
        out[slot * n + row] = present ? (Number.isFinite(score) ? score : 1) : 0;
      }
    }
    return out;
  }, [faces, n]);
  const firstWithFace = useMemo(() => {
    for (let row = 0; row < n; row++) for (let slot = 0; slot < faces.slots; slot++) if (faces.present[row * faces.slots + slot]) return row;
    return null;
  }, [faces, n]);
  const [row, setRow] = useState<number | null>(firstWithFace);
  const label = (r: number): string => `frame #${faces.frame_indices[r]}${faces.times ? ` at ${formatTime(faces.times[r]!)}` : ''}`;
  const facesInVideo = firstWithFace !== null;
  return (
    <>
      <p className="muted">
        {n} frames × {faces.slots} face slots.{' '}
        {faces.status === 'empty' ? `The component is empty: ${faces.empty_reason}.` : facesInVideo ? 'Click a frame to see its landmarks.' : ''}
      </p>
      <div className="panel">
        <h2>Presence {faces.scores ? '(detection score where present)' : ''}</h2>
        <Heatmap
          values={matrix}
          rows={faces.slots}
          cols={n}
          range={[0, 1]}
          height={Math.max(60, faces.slots * 28)}
          rowLabels={Array.from({ length: faces.slots }, (_, s) => `face slot ${s}`)}
          colTicks={columnTicks(faces.times, n, 8, formatTime)}
          describe={(slot, r, v) => `${label(r)}, slot ${slot}: ${v > 0 ? `face (score ${v.toFixed(2)})` : 'no face'}`}
          onPick={(_slot, r) => setRow(r)}
          label="face presence heatmap"
          testId="faces-heatmap"
        />
      </div>
      {row !== null ? <LandmarksPanel run={run} row={row} label={label(row)} /> : <EmptyState title="No face in any frame">Nothing to draw landmarks on.</EmptyState>}
    </>
  );
}

function LandmarksPanel({ run, row, label }: { run: RunRef; row: number; label: string }) {
  const landmarks = useApi('views.face_landmarks', { run, row });
  const frame = useApi('views.frames', landmarks.data ? { run, frames: [landmarks.data.frame_index], max_width: 640 } : null);
  return (
    <div className="panel" data-testid="landmarks-panel">
      <h2>Landmarks on {label}</h2>
      {landmarks.error ? <ErrorNotice error={landmarks.error} /> : null}
      {frame.error ? <ErrorNotice error={frame.error} /> : null}
      {landmarks.data && frame.data ? <LandmarksOverlay frame={frame.data} landmarks={landmarks.data} /> : <Loading what="landmarks" />}
    </div>
  );
}

const SLOT_COLORS = ['#3fb950', '#58a6ff', '#f0883e', '#d2a8ff', '#ff7b72'];

function LandmarksOverlay({ frame, landmarks }: { frame: FramesSlice; landmarks: FaceLandmarks }) {
  const overlay = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = overlay.current!;
    canvas.width = frame.width;
    canvas.height = frame.height;
    const ctx = canvas.getContext('2d')!;
    ctx.clearRect(0, 0, frame.width, frame.height);
    for (let slot = 0; slot < landmarks.slots; slot++) {
      if (!landmarks.present[slot]) continue;
      ctx.fillStyle = SLOT_COLORS[slot % SLOT_COLORS.length]!;
      ctx.strokeStyle = ctx.fillStyle;
      for (let p = 0; p < 468; p++) {
        const x = landmarks.landmarks[(slot * 468 + p) * 3]!;
        const y = landmarks.landmarks[(slot * 468 + p) * 3 + 1]!;
        if (Number.isFinite(x) && Number.isFinite(y)) ctx.fillRect(x * frame.width - 1, y * frame.height - 1, 2, 2);
      }
      if (landmarks.boxes) {
        const [x0, y0, x1, y1] = Array.from(landmarks.boxes.subarray(slot * 4, slot * 4 + 4));
        if ([x0, y0, x1, y1].every((v) => Number.isFinite(v))) ctx.strokeRect(x0! * frame.width, y0! * frame.height, (x1! - x0!) * frame.width, (y1! - y0!) * frame.height);
      }
    }
  }, [frame, landmarks]);
  const present = Array.from(landmarks.present).filter(Boolean).length;
  return (
    <>
      <div className="overlay-frame">
        <FrameCanvas rgb={frame.rgb} width={frame.width} height={frame.height} label="frame" />
        <canvas ref={overlay} className="overlay" data-testid="landmarks-overlay" />
      </div>
      <div className="small muted">{present} face(s) · 468 FaceMesh points each (x, y normalised to the frame)</div>
    </>
  );
}
