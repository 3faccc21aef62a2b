import { useMemo, useState } from 'react';
import type { ClipData, RunRef } from '../../../core/api/contract.js';
import { FrameCanvas } from '../components/FrameCanvas.js';
import { Heatmap } from '../components/Heatmap.js';
import { ErrorNotice, Loading, UnavailableNotice } from '../components/Notice.js';
import { formatNumber, formatTime } from '../format.js';
import { useApi } from '../hooks.js';
import { refPath } from '../route.js';
import { useApp } from '../store.js';
import { columnTicks, nearestIndex } from '../timeline.js';

/** core_clip: frame×frame cosine similarity with segment boundaries, and prompt×time scores. */
export function ClipView({ run }: { run: RunRef }) {
  const clip = useApi('views.clip', { run });
  if (clip.error) return <ErrorNotice error={clip.error} />;
  if (!clip.data) return <Loading what="CLIP embeddings" />;
  return (
    <section className="view" data-testid="view-clip">
      <header className="view-head">
        <h1>CLIP</h1>
      </header>
      {clip.data.available ? <ClipBody run={run} clip={clip.data} /> : <UnavailableNotice what="CLIP embeddings" unavailable={clip.data} />}
    </section>
  );
}

function ClipBody({ run, clip }: { run: RunRef; clip: ClipData }) {
  const cursor = useApp((s) => (s.cursor?.run === refPath(run) ? s.cursor.time : null));
  const [picked, setPicked] = useState<[number, number] | null>(null);
  const label = (row: number): string => `#${clip.frame_indices[row]}${clip.times ? ` (${formatTime(clip.times[row]!)})` : ''}`;
  const cursorCol = cursor !== null && clip.times ? nearestIndex(clip.times, cursor) : null;
  const framesToShow = picked ? [clip.frame_indices[picked[0]]!, clip.frame_indices[picked[1]]!] : null;
  const pair = useApi('views.frames', framesToShow ? { run, frames: framesToShow, max_width: 320 } : null);
  const ticks = useMemo(() => columnTicks(clip.times, clip.rows, 6, formatTime), [clip]);
  return (
    <>
      <p className="muted">
        {clip.frame_count} frames embedded by {clip.model_name ?? 'core_clip'} (D = {clip.embedding_dim})
        {clip.rows < clip.frame_count ? `, ${clip.rows} shown (evenly spread)` : ''}.{' '}
        {clip.boundary_source === 'cut_detection'
          ? 'White lines: shot boundaries (cut_detection).'
          : clip.boundary_source === 'segmenter_cut_candidates'
            ? 'White lines: the segmenter\u2019s cut candidates (cut_detection is not in this run).'
            : 'Frame times are unavailable (the frames_dir is gone): axes are sample order, without shot boundaries.'}
      </p>
      <div className="grid-clip">
        <div className="panel">
          <h2>Frame × frame cosine similarity</h2>
          <Heatmap
            values={clip.similarity}
            rows={clip.rows}
            cols={clip.rows}
            height={760}
            square
            colTicks={ticks}
            colBoundaries={clip.boundaries}
            rowBoundaries={clip.boundaries}
            markCol={cursorCol}
            describe={(r, c, v) => `${label(r)} vs ${label(c)}: ${formatNumber(v)}`}
            onPick={(r, c) => setPicked([r, c])}
            label="frame by frame similarity heatmap"
            testId="similarity-heatmap"
          />
        </div>
        <div className="panel" data-testid="pair-panel">
          <h2>Compared frames</h2>
          {picked && pair.data ? (
            <>
              <div className="pair">
                {[0, 1].map((k) => (
                  <figure key={k}>
                    <FrameCanvas rgb={pair.data!.rgb.subarray(k * pair.data!.width * pair.data!.height * 3, (k + 1) * pair.data!.width * pair.data!.height * 3)} width={pair.data!.width} height={pair.data!.height} label={label(picked[k]!)} />
                    <figcaption>{label(picked[k]!)}</figcaption>
                  </figure>
                ))}
              </div>
              <div>cosine similarity {formatNumber(clip.similarity[picked[0] * clip.rows + picked[1]]!)}</div>
            </>
          ) : pair.error ? (
            <ErrorNotice error={pair.error} />
          ) : (
            <p className="muted">Click a cell of the matrix to see its two frames.</p>
          )}
        </div>
      </div>
      <div className="panel">
        <h2>Prompt × time scores (cosine of each shot_quality prompt with each frame)</h2>
        <Heatmap
          values={clip.prompt_scores}
          rows={clip.prompts.length}
          cols={clip.rows}
          height={Math.max(160, clip.prompts.length * 22)}
          rowLabels={clip.prompts}
          colTicks={ticks}
          colBoundaries={clip.boundaries}
          markCol={cursorCol}
          describe={(p, c, v) => `"${clip.prompts[p]}" at ${label(c)}: ${formatNumber(v)}`}
          label="prompt by time score heatmap"
          testId="prompt-heatmap"
        />
      </div>
    </>
  );
}
