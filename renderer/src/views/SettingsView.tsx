import { useEffect, useState } from 'react';
import type { WorkstationSettings } from '../../../core/api/contract.js';
import type { ComponentName } from '../../../core/contracts/components.js';
import { ApiCallError } from '../api/client.js';
import { MODEL_COMPONENTS } from '../constants.js';
import { ErrorNotice, Loading } from '../components/Notice.js';
import { formatBytes } from '../format.js';
import { useApi } from '../hooks.js';
import { useApp } from '../store.js';

/** Models dir, runtime (CPU, CUDA, Triton URL), fixed batch sizes; and the models the registry knows. */
export function SettingsView() {
  const transport = useApp((s) => s.transport);
  const setRedisUrl = useApp((s) => s.setRedisUrl);
  const loaded = useApi('settings.get', {});
  const [verify, setVerify] = useState(false);
  const models = useApi('models.status', { verify });
  const [draft, setDraft] = useState<WorkstationSettings | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [error, setError] = useState<ApiCallError | null>(null);
  useEffect(() => {
    if (loaded.data) setDraft(structuredClone(loaded.data.settings));
  }, [loaded.data]);
  if (loaded.error) return <ErrorNotice error={loaded.error} />;
  if (!loaded.data || !draft) return <Loading what="settings" />;

  const save = async (): Promise<void> => {
    setError(null);
    setSaved(null);
    try {
      const state = await transport!.call('settings.update', { patch: draft });
      setDraft(structuredClone(state.settings));
      setRedisUrl(state.settings.redis_url);
      setSaved(`Saved to ${state.file}`);
      models.reload();
    } catch (caught) {
      setError(caught instanceof ApiCallError ? caught : new ApiCallError('internal_error', String(caught)));
    }
  };
  const setBatch = (name: ComponentName, value: string): void => {
    const next = { ...draft.batch_sizes };
    if (value.trim() === '') delete next[name];
    else next[name] = Number(value);
    setDraft({ ...draft, batch_sizes: next });
  };

  return (
    <section className="view" data-testid="view-settings">
      <header className="view-head">
        <h1>Settings</h1>
        <div className="muted small">{loaded.data.saved ? loaded.data.file : `defaults (not saved yet; will be saved to ${loaded.data.file})`}</div>
      </header>
      <p className="muted small" data-testid="settings-scope">
        Applied to every analysis started here: device and runtime to each model component of the run, a batch size to its component (in the run&apos;s config, so
        its config hash and cache follow). A setting that cannot apply — CUDA without onnxruntime&apos;s CUDA provider, Triton without a URL or without the
        profile&apos;s Triton model mapping — stops the analysis at start; nothing falls back to the CPU.
      </p>
      <form
        className="form panel"
        onSubmit={(event) => {
          event.preventDefault();
          void save();
        }}
      >
        <label>
          Models folder <span className="muted small">(empty: $TRENDFLOW_MODELS_DIR, else the per-user folder)</span>
          <input aria-label="Models folder" value={draft.models_dir ?? ''} onChange={(e) => setDraft({ ...draft, models_dir: e.target.value.trim() === '' ? null : e.target.value })} />
        </label>
        <fieldset>
          <legend>Runtime</legend>
          <div className="choices">
            <span className="muted">Inference</span>
            {(['inprocess', 'triton'] as const).map((runtime) => (
              <label key={runtime} className="inline">
                <input type="radio" name="runtime" checked={draft.runtime === runtime} onChange={() => setDraft({ ...draft, runtime })} /> {runtime === 'inprocess' ? 'in process (onnxruntime)' : 'Triton server'}
              </label>
            ))}
          </div>
          <div className="choices">
            <span className="muted">Device</span>
            {(['cpu', 'cuda'] as const).map((device) => (
              <label key={device} className="inline">
                <input type="radio" name="device" checked={draft.device === device} onChange={() => setDraft({ ...draft, device })} /> {device.toUpperCase()}
              </label>
            ))}
          </div>
        </fieldset>
        <label>
          Triton URL
          <input aria-label="Triton URL" placeholder="http://gpu-box:8000" value={draft.triton_url ?? ''} onChange={(e) => setDraft({ ...draft, triton_url: e.target.value.trim() === '' ? null : e.target.value.trim() })} />
        </label>
        <label>
          Queue Redis URL <span className="muted small">(a shared analysis queue, `trendflow queue`, to watch in the Queue view; empty: none)</span>
          <input aria-label="Queue Redis URL" placeholder="redis://queue-host:6379" value={draft.redis_url ?? ''} onChange={(e) => setDraft({ ...draft, redis_url: e.target.value.trim() === '' ? null : e.target.value.trim() })} />
        </label>
        <fieldset>
          <legend>Batch sizes (empty: planned from free memory)</legend>
          <div className="batch-grid">
            {MODEL_COMPONENTS.map((name) => (
              <label key={name} className="inline">
                <span className="mono">{name}</span>
                <input type="number" min={1} max={4096} aria-label={`batch size ${name}`} value={draft.batch_sizes[name] ?? ''} onChange={(e) => setBatch(name, e.target.value)} />
              </label>
            ))}
          </div>
        </fieldset>
        <div className="row">
          <button type="submit" className="primary" data-testid="settings-save">
            Save
          </button>
          {saved ? (
            <span className="ok-text" data-testid="settings-saved">
              {saved}
            </span>
          ) : null}
        </div>
        {error ? <ErrorNotice error={error} /> : null}
      </form>
      <div className="panel" data-testid="models-panel">
        <h2>
          Models{' '}
          <button type="button" onClick={() => setVerify(true)} disabled={verify && models.loading}>
            Verify sha256
          </button>
        </h2>
        {models.error ? <ErrorNotice error={models.error} /> : null}
        {models.data ? (
          <>
            <div className="muted small">{models.data.models_dir}</div>
            <table className="table">
              <thead>
                <tr>
                  <th>Model</th>
                  <th>Task</th>
                  <th>Licence</th>
                  <th className="num">Size</th>
                  <th>In models folder</th>
                  <th>sha256</th>
                </tr>
              </thead>
              <tbody>
                {models.data.models.map((m) => (
                  <tr key={m.id} data-testid="model-row">
                    <td>
                      <div className="mono">{m.id}</div>
                      <div className="small muted">
                        {m.model_name} @{m.model_version.slice(0, 12)}
                      </div>
                    </td>
                    <td>{m.task}</td>
                    <td>{m.license}</td>
                    <td className="num">{formatBytes(m.bytes)}</td>
                    <td>
                      <span className={`badge badge-${m.state === 'installed' ? 'ok' : m.state === 'partial' ? 'empty' : 'unknown'}`}>{m.state}</span>
                    </td>
                    <td>{m.verified ?? <span className="muted">not checked</span>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <p className="small muted">
              Missing models: <code>npx trendflow models fetch ID</code>
            </p>
          </>
        ) : (
          <Loading what="models" />
        )}
      </div>
    </section>
  );
}
