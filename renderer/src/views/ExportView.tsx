import { useState } from 'react';
import type { ExportSummary, RunRef } from '../../../core/api/contract.js';
import { ApiCallError } from '../api/client.js';
import { ErrorNotice, StatusBadge } from '../components/Notice.js';
import { refPath, sameRun } from '../route.js';
import { useApp } from '../store.js';

/**
 * Training bundles (core/export): the runs ticked here or in the runs list, or every run of the store, exported into
 * a new folder — under the workspace's exports/ in browser mode, under a folder picked in the dialog on the desktop.
 */
export function ExportView() {
  const { runs, picked, info, transport } = useApp();
  const { togglePicked } = useApp.getState();
  const [everyRun, setEveryRun] = useState(false);
  const [parentDir, setParentDir] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiCallError | null>(null);
  const [result, setResult] = useState<ExportSummary | null>(null);
  const canStart = !busy && (everyRun || picked.length > 0);

  const start = async (): Promise<void> => {
    if (!transport) return;
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      // picked entries are whole run summaries: the API takes only the identity
      const runs: RunRef[] = picked.map(({ platform_id, video_id, run_id }) => ({ platform_id, video_id, run_id }));
      const target: { runs: RunRef[] } | { all: true } = everyRun ? { all: true } : { runs };
      setResult(await transport.call('export.create', { ...target, ...(parentDir === null ? {} : { parent_dir: parentDir }) }));
    } catch (caught) {
      setError(caught instanceof ApiCallError ? caught : new ApiCallError('internal_error', String(caught)));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="view" data-testid="view-export">
      <header className="view-head">
        <h1>Export</h1>
      </header>
      <div className="panel">
        <h2>Runs to export</h2>
        <p>
          <label>
            <input type="checkbox" checked={everyRun} onChange={(event) => setEveryRun(event.target.checked)} data-testid="export-all" /> Every run of the store (runs not ok are skipped and listed)
          </label>
        </p>
        {everyRun ? null : runs.length === 0 ? (
          <p className="muted">No runs in the store yet.</p>
        ) : (
          <table className="table" data-testid="export-runs">
            <tbody>
              {runs.map((run) => (
                <tr key={refPath(run)}>
                  <td>
                    <input type="checkbox" aria-label={`Export ${run.run_id}`} checked={picked.some((p) => sameRun(p, run))} onChange={() => togglePicked(run)} />
                  </td>
                  <td>{run.source_name ?? run.video_id}</td>
                  <td className="mono">{refPath(run)}</td>
                  <td>
                    <StatusBadge status={run.status} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      <div className="panel">
        <h2>Bundle folder</h2>
        {transport?.pickFile ? (
          <p>
            <button type="button" onClick={() => void transport.pickFile?.('export_folder').then((dir) => dir && setParentDir(dir))}>
              Choose folder…
            </button>{' '}
            <span className="mono">{parentDir ?? `${info?.workspace ?? '<workspace>'}/exports`}</span>
          </p>
        ) : (
          <p className="muted">
            Browser mode writes bundles only under <span className="mono">{info?.workspace}/exports</span>.
          </p>
        )}
        <p className="muted small">Each export is a new folder (dataset.npz with X and targets, the runs' artifacts and manifests, README.md, SHA256SUMS).</p>
        <button type="button" className="primary" disabled={!canStart} onClick={() => void start()} data-testid="export-start">
          {busy ? 'Exporting…' : everyRun ? 'Export every run' : `Export ${picked.length} run${picked.length === 1 ? '' : 's'}`}
        </button>
      </div>
      {error ? <ErrorNotice error={error} /> : null}
      {result ? <ExportResultPanel result={result} /> : null}
    </section>
  );
}

function ExportResultPanel({ result }: { result: ExportSummary }) {
  return (
    <div className="panel" data-testid="export-result">
      <h2>Bundle written</h2>
      <p data-testid="export-shape">
        dataset.npz: <strong>{result.rows}</strong> {result.rows === 1 ? 'row' : 'rows'} × <strong>{result.features}</strong> features ({result.feature_schema_version})
      </p>
      <p>
        Folder: <span className="mono" data-testid="export-out">{result.out}</span>
      </p>
      {result.exported.length > 0 ? (
        <ul className="mono small" data-testid="export-exported">
          {result.exported.map((run) => (
            <li key={run.bundle_path}>{run.bundle_path}</li>
          ))}
        </ul>
      ) : null}
      <h2>Skipped ({result.skipped.length})</h2>
      {result.skipped.length === 0 ? (
        <p className="muted">No run was skipped.</p>
      ) : (
        <ul data-testid="export-skipped">
          {result.skipped.map((skip, index) => (
            <li key={index}>
              <span className="mono">{skip.run ? refPath(skip.run) : '(outside the store)'}</span>: {skip.reason}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
