import { useEffect, useMemo, useRef, useState } from 'react';
import type { AnalysisJob, AnalysisJobComponent, ProfileInfo, WorkstationSettings } from '../../../core/api/contract.js';
import type { ComponentName } from '../../../core/contracts/components.js';
import { ApiCallError } from '../api/client.js';
import { EmptyState, ErrorNotice, Loading, StatusBadge } from '../components/Notice.js';
import { formatBytes, formatDate, formatMs } from '../format.js';
import { useApi } from '../hooks.js';
import { useApp } from '../store.js';

/**
 * Start an analysis of a local video and follow it. The video comes from the native file dialog (desktop) or, in
 * browser mode, from the video folders the server allows (a list to pick from, or a path typed in); the profile
 * and its components are the ones the host offers (`analysis.profiles`). Every job of this session is listed
 * below with a bar per component and overall, the ETA, cancel, and a link to its run once it exists.
 */
export function NewAnalysisView() {
  const { transport, info, jobs } = useApp();
  const profiles = useApi('analysis.profiles', {});
  const videos = useApi('analysis.videos', {});
  const settings = useApi('settings.get', {});
  const [video, setVideo] = useState('');
  const [metadata, setMetadata] = useState('');
  const [profileName, setProfileName] = useState<string | null>(null);
  const [unchecked, setUnchecked] = useState<ComponentName[]>([]);
  const [error, setError] = useState<ApiCallError | null>(null);
  const [starting, setStarting] = useState(false);
  const jobsPanel = useRef<HTMLElement>(null);

  const profile: ProfileInfo | null = useMemo(() => {
    const all = profiles.data?.profiles ?? [];
    return all.find((p) => p.name === (profileName ?? profiles.data?.default_profile)) ?? null;
  }, [profiles.data, profileName]);
  const runnable = profile?.components.filter((c) => c.implemented).map((c) => c.name) ?? [];
  const chosen = runnable.filter((name) => !unchecked.includes(name));
  const browser = transport?.mode === 'browser';

  useEffect(() => setUnchecked([]), [profile?.name]);

  const pick = async (kind: 'video' | 'metadata'): Promise<void> => {
    const path = await transport?.pickFile?.(kind);
    if (path) (kind === 'video' ? setVideo : setMetadata)(path);
  };
  const start = async (): Promise<void> => {
    if (!transport || !profile) return;
    setError(null);
    setStarting(true);
    try {
      const job = await transport.call('analysis.start', {
        video_path: video.trim(),
        profile: profile.name,
        // all of the profile's components: the profile decides (with its dependencies); a subset is `--components`
        ...(chosen.length < runnable.length ? { components: chosen } : {}),
        ...(metadata.trim() ? { metadata_path: metadata.trim() } : {}),
      });
      useApp.getState().upsertJob(job);
      // the new job's progress is below the form: bring it into view
      jobsPanel.current?.scrollIntoView({ block: 'start' });
    } catch (caught) {
      setError(caught instanceof ApiCallError ? caught : new ApiCallError('internal_error', String(caught)));
    } finally {
      setStarting(false);
    }
  };

  return (
    <section className="view" data-testid="view-new">
      <header className="view-head">
        <h1>New analysis</h1>
      </header>
      <form
        className="form panel"
        onSubmit={(event) => {
          event.preventDefault();
          void start();
        }}
      >
        <label>
          Video file
          <div className="row">
            <input value={video} onChange={(e) => setVideo(e.target.value)} placeholder={browser ? `${info?.video_dirs?.[0] ?? '/videos'}/clip.mp4` : '/path/to/video.mp4'} aria-label="Video file" required />
            {transport?.pickFile ? (
              <button type="button" onClick={() => void pick('video')}>
                Browse…
              </button>
            ) : null}
          </div>
        </label>
        {browser ? (
          <div data-testid="video-dirs">
            <div className="muted small">
              Browser mode analyses only files in the server's video folders: <code>{info?.video_dirs?.join(', ')}</code> (set with <code>TRENDFLOW_VIDEO_DIRS</code> when starting{' '}
              <code>trendflow serve</code>). Pick one below or type its path.
            </div>
            {videos.error ? <ErrorNotice error={videos.error} /> : null}
            {videos.data && videos.data.videos.length === 0 ? <div className="muted small">No video files in those folders yet.</div> : null}
            {videos.data && videos.data.videos.length > 0 ? (
              <div className="video-list" role="listbox" aria-label="Videos in the video folders">
                {videos.data.videos.map((file) => (
                  <button type="button" role="option" aria-selected={video === file.path} key={file.path} className={`video-option${video === file.path ? ' on' : ''}`} title={file.path} onClick={() => setVideo(file.path)} data-testid="video-option">
                    <span>{file.name}</span>
                    <span className="muted small">
                      {formatBytes(file.bytes)} · {formatDate(file.modified_at)}
                    </span>
                  </button>
                ))}
              </div>
            ) : null}
          </div>
        ) : null}
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
        {profiles.error ? <ErrorNotice error={profiles.error} /> : null}
        {profiles.loading && !profiles.data ? <Loading what="profiles" /> : null}
        {profiles.data ? (
          <>
            <label>
              Profile
              <select value={profile?.name ?? ''} onChange={(e) => setProfileName(e.target.value)} aria-label="Profile">
                {profiles.data.profiles.map((p) => (
                  <option key={p.name} value={p.name}>
                    {p.name}
                    {p.name === profiles.data!.default_profile ? ' (default)' : ''}
                    {p.source === 'workspace' ? ' — workspace' : ''}
                  </option>
                ))}
              </select>
              {profile ? <span className="muted small">{profile.description}</span> : null}
            </label>
            {profiles.data.problems.map((problem) => (
              <div key={problem.file} className="muted small" data-testid="profile-problem">
                Profile {problem.file} not offered: <code>{problem.error.code}</code> {problem.error.message}
              </div>
            ))}
            {profile ? (
              <fieldset data-testid="components">
                <legend>Components</legend>
                {profile.components.map((c) => (
                  <label key={c.name} className="inline" title={c.implemented ? undefined : 'not in this build yet: listed by the profile, not run'}>
                    <input
                      type="checkbox"
                      disabled={!c.implemented}
                      checked={c.implemented && !unchecked.includes(c.name)}
                      onChange={(e) => setUnchecked((list) => (e.target.checked ? list.filter((n) => n !== c.name) : [...list, c.name]))}
                      aria-label={`component ${c.name}`}
                    />
                    <span className={c.implemented ? undefined : 'muted'}>
                      {c.name}
                      {c.required ? '' : ' (optional)'}
                    </span>
                  </label>
                ))}
                <div className="muted small">Components a chosen one needs run too.</div>
              </fieldset>
            ) : null}
          </>
        ) : null}
        <div className="row">
          <button type="submit" className="primary" disabled={starting || !profile || chosen.length === 0 || video.trim() === ''}>
            Start analysis
          </button>
          {settings.data ? <SettingsLine settings={settings.data.settings} /> : null}
        </div>
        {error ? <ErrorNotice error={error} /> : null}
      </form>
      <section className="panel" data-testid="jobs" ref={jobsPanel}>
        <h2>Analyses of this session</h2>
        {jobs.length === 0 ? <EmptyState title="No analysis started yet">Start one above; its progress shows here, also after the page is reloaded.</EmptyState> : null}
        {jobs.map((job) => (
          <JobCard key={job.job_id} job={job} />
        ))}
      </section>
    </section>
  );
}

const ACTIVE: ReadonlySet<AnalysisJob['state']> = new Set(['queued', 'starting', 'running', 'cancelling']);

function JobCard({ job }: { job: AnalysisJob }) {
  const { transport, navigate } = useApp();
  const [error, setError] = useState<ApiCallError | null>(null);
  const cancel = async (): Promise<void> => {
    setError(null);
    try {
      useApp.getState().upsertJob((await transport!.call('analysis.cancel', { job_id: job.job_id })).job);
    } catch (caught) {
      setError(caught instanceof ApiCallError ? caught : new ApiCallError('internal_error', String(caught)));
    }
  };
  const name = job.video_path.split(/[\\/]/).pop();
  return (
    <article className="job" data-testid="job" data-state={job.state} data-run-id={job.run?.run_id}>
      <header className="job-head">
        <strong title={job.video_path}>{name}</strong>
        <span className="muted small">profile {job.profile.split(/[\\/]/).pop()?.replace(/\.json$/, '')}</span>
        <span className="muted small">started {formatDate(job.started_at)}</span>
        <span className={`badge badge-${badgeOf(job)}`} data-testid="job-state">
          {job.state}
          {job.state === 'finished' && job.run_status ? `: ${job.run_status}` : ''}
        </span>
        <span className="grow" />
        {ACTIVE.has(job.state) ? (
          <button type="button" onClick={() => void cancel()} disabled={job.state === 'cancelling'} data-testid="job-cancel">
            Cancel
          </button>
        ) : null}
        {job.run && !ACTIVE.has(job.state) ? (
          <button type="button" className="primary" onClick={() => navigate({ view: 'run', run: job.run!, tab: 'overview' })} data-testid="job-open-run">
            Open run overview
          </button>
        ) : null}
      </header>
      <Bar label="overall" fraction={job.overall.fraction} detail={`${Math.round(job.overall.fraction * 100)} %${eta(job.overall.eta_sec)}`} testId="job-overall" />
      <Bar
        label="frames"
        fraction={job.segmenter.state === 'done' ? 1 : job.segmenter.total > 0 ? job.segmenter.done / job.segmenter.total : 0}
        detail={job.segmenter.state === 'pending' ? 'waiting' : job.segmenter.state === 'skipped' ? 'not needed' : `${job.segmenter.done}/${job.segmenter.total} frames${eta(job.segmenter.eta_sec)}`}
      />
      {job.components.map((c) => (
        <Bar key={c.name} label={c.name} fraction={componentFraction(c)} detail={componentDetail(c)} state={c.state} testId="job-component" />
      ))}
      {job.error ? <div className="error small" role="alert">{`${job.error.code}: ${job.error.message}`}</div> : null}
      {job.run ? <div className="muted small mono">run {job.run.run_id}</div> : null}
      {error ? <ErrorNotice error={error} /> : null}
    </article>
  );
}

function Bar({ label, fraction, detail, state, testId }: { label: string; fraction: number; detail: string; state?: AnalysisJobComponent['state']; testId?: string }) {
  const percent = Math.round(Math.min(1, Math.max(0, fraction)) * 100);
  return (
    <div className="progress-row" data-testid={testId} data-name={label}>
      <span className="progress-label">{label}</span>
      <div className="progress" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent}>
        <div className={`progress-fill${state ? ` progress-${state}` : ''}`} style={{ width: `${percent}%` }} />
      </div>
      <span className="progress-detail small">
        {state && state !== 'running' && state !== 'pending' ? <StatusBadge status={state} /> : null} {detail}
      </span>
    </div>
  );
}

function componentFraction(c: AnalysisJobComponent): number {
  if (c.state === 'ok' || c.state === 'empty' || c.state === 'error') return 1;
  return c.total > 0 ? c.done / c.total : 0;
}

function componentDetail(c: AnalysisJobComponent): string {
  if (c.cache_hit) return 'cache hit';
  if (c.state === 'pending') return 'waiting';
  if (c.state === 'cancelled') return 'not finished';
  if (c.duration_ms !== null) return formatMs(c.duration_ms);
  if (c.total > 0 && c.state === 'running') return `${c.done}/${c.total} ${c.unit}${eta(c.eta_sec)}`;
  return c.state === 'running' ? 'running' : '';
}

function eta(seconds: number | null): string {
  if (seconds === null) return '';
  return seconds < 60 ? `, ETA ${seconds} s` : `, ETA ${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

function badgeOf(job: AnalysisJob): string {
  if (job.state === 'finished') return job.run_status ?? 'ok';
  if (job.state === 'failed') return 'error';
  if (job.state === 'cancelled' || job.state === 'cancelling') return 'cancelled';
  return 'running';
}

/** The workstation settings the analysis will run with (core/api/README.md, "Workstation settings reach the run"). */
function SettingsLine({ settings }: { settings: WorkstationSettings }) {
  const batches = Object.entries(settings.batch_sizes).map(([name, size]) => `${name} ${size}`);
  return (
    <span className="muted small" data-testid="analysis-settings">
      Model components run {settings.runtime === 'triton' ? `on Triton at ${settings.triton_url ?? '(no URL)'}` : `in process on ${settings.device.toUpperCase()}`}; batch sizes:{' '}
      {batches.length ? batches.join(', ') : 'planned from free memory'} (Settings).
    </span>
  );
}
