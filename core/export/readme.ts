/** The README.md written into every bundle: what a Python user needs to load and use it with NumPy alone. */
import { FEATURE_COLUMNS, FEATURE_SCHEMA_VERSION, FEATURE_SOURCES, TARGET_NAMES } from '../predict/feature-spec.js';

export function bundleReadme(rows: number): string {
  const F = FEATURE_COLUMNS.length;
  const T = TARGET_NAMES.length;
  const sources = FEATURE_SOURCES.map(
    (s) => `| \`${s.component}\` | \`${s.component}/${s.artifact}\` | ${s.names.length} | ${s.required ? 'required' : 'optional'} |`,
  ).join('\n');
  return `# TrendFlow training bundle

${rows} runs, feature schema \`${FEATURE_SCHEMA_VERSION}\` (${F} features), ${T} targets.

\`\`\`python
import numpy as np
d = np.load("dataset.npz", allow_pickle=True)   # object arrays hold str / None
X, y, m = d["X"], d["targets"], d["target_masks"]
views_7d = y[m[:, 0], 0]                          # only the rows whose 7-day target exists
\`\`\`

The same rows as one table: \`dataset.parquet\` (pandas: \`pd.read_parquet("dataset.parquet")\`, needs pyarrow).

Check the files with \`sha256sum -c SHA256SUMS\` in this folder.

## dataset.npz

N = ${rows} rows (one per exported run), F = ${F} features, T = ${T} targets.

| key | dtype | shape | meaning |
|---|---|---|---|
| \`feature_schema_version\` | str | () | \`${FEATURE_SCHEMA_VERSION}\`: which artifact fields the columns of X are |
| \`video_id\`, \`run_id\`, \`platform_id\` | object (str) | (N,) | the run's identity |
| \`run_path\` | object (str) | (N,) | the run's folder in this bundle (\`runs/<platform_id>/<video_id>/<run_id>\`) |
| \`feature_names\` | object (str) | (F,) | \`<component>.<feature>\`, the columns of X |
| \`feature_required\` | bool | (F,) | the feature's source is required (below) |
| \`feature_imputation\` | object (str) | (F,) | for models that cannot take NaN: \`median\` (training median) or \`most_frequent\` (flags, one-hot), with a missing-indicator column; not applied here |
| \`X\` | float32 | (N, F) | the features; **NaN where missing** (a component that did not run, a hidden counter, an undefined value), never 0 |
| \`row_complete\` | bool | (N,) | every required source ran (status ok or empty) |
| \`target_names\` | object (str) | (T,) | ${TARGET_NAMES.map((n) => `\`${n}\``).join(', ')} |
| \`targets\` | float32 | (N, T) | log1p of the gain in views / likes from snapshot 1 to the 7/14/21-day snapshot; NaN where missing |
| \`target_masks\` | bool | (N, T) | True exactly where \`targets\` holds a value |
| \`age_bucket\` | object (str or None) | (N,) | age at snapshot 1: \`lt_24h\`, \`1_30d\`, \`gt_30d\`; None when unknown |
| \`channel_id\` | object (str or None) | (N,) | the channel's id from the metadata JSON (\`channelId\` / \`channel_id\`, recorded by temporal_snapshot_features); None when unknown — group by it to keep a channel in one split |
| \`published_at\` | object (str or None) | (N,) | publication time (ISO 8601 UTC) when known |
| \`snapshot1_collected_at\` | object (str or None) | (N,) | when snapshot 1 (t0, the moment features describe) was collected |

Features come from snapshot 1 only: no column reads a later snapshot (those are the targets).

| source | artifact | features | |
|---|---|---|---|
${sources}

## dataset.parquet

One row per run, in the order of dataset.npz, in row groups of 1000. Columns: \`video_id\`, \`run_id\`,
\`platform_id\`, \`run_path\` (string), \`row_complete\` (boolean), \`age_bucket\`, \`channel_id\`,
\`published_at\`, \`snapshot1_collected_at\` (string, null when unknown), then one FLOAT column per feature named as
in \`feature_names\`, one FLOAT column per target (\`${TARGET_NAMES[0]}\` …) and a boolean \`<target>_present\` per
target. Missing features and targets are **NaN, not null**, so the columns equal X and targets exactly (pandas
treats NaN as missing: \`df[col].isna()\`). Feature names contain a dot: select them with \`df["a.b"]\`, not as
nested fields. The file's key-value metadata holds \`feature_schema_version\`.

## Other files

- \`runs/<platform_id>/<video_id>/<run_id>/\`: each run's folder as in the result store (manifest.json and every
  artifact, hard-linked where possible); each artifact's keys are described in its \`meta\` and its schema.
- \`export_report.json\`: the runs exported and those skipped, with the reason (a run not ok, an unreadable artifact).
- \`SHA256SUMS\`: sha256 of every other file.
`;
}
