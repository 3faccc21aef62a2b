import { useState } from 'react';
import { ApiCallError } from '../api/client.js';
import { ErrorNotice } from '../components/Notice.js';
import { useApp } from '../store.js';

/**
 * Start an analysis of a local video. The form is complete; starting needs the orchestrator (issue 8), and the
 * app says so (features.analysis) instead of pretending. Once it lands, progress arrives as `analysis.progress`.
 */
export function NewAnalysisView() {
  const { transport, info } = useApp();
  const [video, setVideo] = useState('');
  const [metadata, setMetadata] = useState('');
  const [profile, setProfile] = useState('tier0');
  const [error, setError] = useState<ApiCallError | null>(null);
  const available = info?.features.analysis ?? false;
  const pick = async (kind: 'video' | 'metadata'): Promise<void> => {
    const chosen = await transport?.pickFile?.(kind);
    if (chosen) (kind === 'video' ? setVideo : setMetadata)(chosen);
  };
  const start = async (): Promise<void> => {
    setError(null);
    try {
      await transport!.call('analysis.start', { video_path: video, profile, ...(metadata ? { metadata_path: metadata } : {}) });
    } catch (caught) {
      setError(caught instanceof ApiCallError ? caught : new ApiCallError('internal_error', String(caught)));
    }
  };
  return (
    <section className="view" data-testid="view-new">
      <header className="view-head">
        <h1>New analysis</h1>
      </header>
      {available ? null : (
        <div className="banner" data-testid="analysis-unavailable">
          Starting an analysis from the workstation needs the pipeline orchestrator, which is not in this build yet. Runs made with the <code>trendflow</code> command appear in Runs as soon as they are written.
        </div>
      )}
      <form
        className="form panel"
        onSubmit={(event) => {
          event.preventDefault();
          void start();
        }}
      >
        <label>
          Video file {transport?.mode === 'browser' ? <span className="muted small">(a path on the machine running trendflow serve)</span> : null}
          <div className="row">
            <input value={video} onChange={(e) => setVideo(e.target.value)} placeholder="/path/to/video.mp4" aria-label="Video file" required />
            {transport?.pickFile ? (
              <button type="button" onClick={() => void pick('video')}>
                Browse…
              </button>
            ) : null}
          </div>
        </label>
        <label>
          Metadata JSON <span className="muted small">(optional: platform and video id, title, channel)</span>
          <div className="row">
            <input value={metadata} onChange={(e) => setMetadata(e.target.value)} placeholder="/path/to/metadata.json" aria-label="Metadata JSON" />
            {transport?.pickFile ? (
              <button type="button" onClick={() => void pick('metadata')}>
                Browse…
              </button>
            ) : null}
          </div>
        </label>
        <label>
          Profile
          <select value={profile} onChange={(e) => setProfile(e.target.value)} aria-label="Profile">
            <option value="tier0">tier0 (default)</option>
            <option value="full">full</option>
          </select>
        </label>
        <div className="row">
          <button type="submit" className="primary" disabled={!available || video.trim() === ''}>
            Start analysis
          </button>
        </div>
        {error ? <ErrorNotice error={error} /> : null}
      </form>
    </section>
  );
}
