import { refPath } from '../route.js';
import { useApp } from '../store.js';

/** Training bundles of the picked runs; needs the export of issue 10, and says so. */
export function ExportView() {
  const { picked, info } = useApp();
  const available = info?.features.export ?? false;
  return (
    <section className="view" data-testid="view-export">
      <header className="view-head">
        <h1>Export</h1>
      </header>
      {available ? null : (
        <div className="banner" data-testid="export-unavailable">
          Exporting training bundles (per-run artifacts and manifests plus a dataset table with feature names, X with NaN for missing values, targets and masks) arrives with the feature spec and export (issue 10).
        </div>
      )}
      <div className="panel">
        <h2>Runs to export</h2>
        {picked.length === 0 ? (
          <p className="muted">Tick runs in the Runs view to export them.</p>
        ) : (
          <ul className="mono">
            {picked.map((run) => (
              <li key={refPath(run)}>{refPath(run)}</li>
            ))}
          </ul>
        )}
        <button type="button" className="primary" disabled={!available || picked.length === 0}>
          Export bundle
        </button>
      </div>
    </section>
  );
}
