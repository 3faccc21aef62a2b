/**
 * The run index (DESIGN.md §9): a SQLite database (better-sqlite3, WAL) of runs, components, artifacts, cache keys
 * and metrics, so `runs`, `show`, the cache and the UI answer without reading every manifest. manifest.json stays
 * the source of truth: the index is rebuilt from result_store (`trendflow index rebuild`), and every write
 * replaces a run's rows with what its manifest says. Several processes may write at once: WAL lets readers run
 * beside one writer, and writers queue on SQLite's lock (busy timeout) inside IMMEDIATE transactions.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { ComponentName } from '../contracts/components.js';
import { TrendflowError } from '../contracts/errors.js';
import type { Manifest } from '../contracts/manifest.js';
import type { RunStatus } from '../contracts/status.js';

export const INDEX_FILE = 'index.sqlite';
/** Bump with a migration when the tables change; an index from a newer version is refused (rebuild it). */
export const INDEX_SCHEMA_VERSION = 1;
/** How long a writer waits for another process's transaction before failing. */
const BUSY_TIMEOUT_MS = 30_000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS runs (
  platform_id TEXT NOT NULL,
  video_id TEXT NOT NULL,
  run_id TEXT NOT NULL,
  run_dir TEXT NOT NULL UNIQUE,
  status TEXT NOT NULL,
  error_code TEXT,
  error_message TEXT,
  config_hash TEXT NOT NULL,
  sampling_policy_version TEXT NOT NULL,
  dataprocessor_version TEXT NOT NULL,
  profile TEXT,
  source_path TEXT,
  source_sha256 TEXT,
  source_bytes INTEGER,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (platform_id, video_id, run_id)
);
CREATE INDEX IF NOT EXISTS runs_run_id ON runs (run_id);
CREATE INDEX IF NOT EXISTS runs_created ON runs (created_at);
CREATE TABLE IF NOT EXISTS components (
  platform_id TEXT NOT NULL,
  video_id TEXT NOT NULL,
  run_id TEXT NOT NULL,
  name TEXT NOT NULL,
  position INTEGER NOT NULL,
  kind TEXT NOT NULL,
  status TEXT NOT NULL,
  empty_reason TEXT,
  error_code TEXT,
  error_message TEXT,
  producer_version TEXT NOT NULL,
  schema_version TEXT NOT NULL,
  started_at TEXT NOT NULL,
  finished_at TEXT NOT NULL,
  duration_ms INTEGER NOT NULL,
  device_used TEXT,
  model_signature TEXT,
  cache_hit INTEGER NOT NULL,
  cache_source_run_id TEXT,
  cache_key TEXT,
  PRIMARY KEY (platform_id, video_id, run_id, name),
  FOREIGN KEY (platform_id, video_id, run_id) REFERENCES runs ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS components_cache_key ON components (cache_key, name);
CREATE TABLE IF NOT EXISTS artifacts (
  platform_id TEXT NOT NULL,
  video_id TEXT NOT NULL,
  run_id TEXT NOT NULL,
  component TEXT NOT NULL,
  path TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  PRIMARY KEY (platform_id, video_id, run_id, path),
  FOREIGN KEY (platform_id, video_id, run_id) REFERENCES runs ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS metrics (
  platform_id TEXT NOT NULL,
  video_id TEXT NOT NULL,
  run_id TEXT NOT NULL,
  component TEXT NOT NULL,
  name TEXT NOT NULL,
  value REAL NOT NULL,
  PRIMARY KEY (platform_id, video_id, run_id, component, name),
  FOREIGN KEY (platform_id, video_id, run_id) REFERENCES runs ON DELETE CASCADE
);
CREATE VIEW IF NOT EXISTS cache_entries AS
  SELECT c.cache_key, c.name AS component, c.platform_id, c.video_id, c.run_id, r.run_dir, c.finished_at
  FROM components c JOIN runs r USING (platform_id, video_id, run_id)
  WHERE c.cache_key IS NOT NULL AND c.status IN ('ok', 'empty');
`;

export interface RunRow {
  platform_id: string;
  video_id: string;
  run_id: string;
  run_dir: string;
  status: RunStatus;
  error_code: string | null;
  error_message: string | null;
  config_hash: string;
  sampling_policy_version: string;
  dataprocessor_version: string;
  profile: string | null;
  source_path: string | null;
  source_sha256: string | null;
  source_bytes: number | null;
  created_at: string;
  updated_at: string;
}

export interface ComponentRow {
  name: ComponentName;
  kind: string;
  status: 'ok' | 'empty' | 'error';
  empty_reason: string | null;
  error_code: string | null;
  error_message: string | null;
  producer_version: string;
  schema_version: string;
  started_at: string;
  finished_at: string;
  duration_ms: number;
  device_used: string | null;
  model_signature: string | null;
  cache_hit: 0 | 1;
  cache_source_run_id: string | null;
  cache_key: string | null;
}

export interface MetricRow {
  /** '' for run-level metrics. */
  component: string;
  name: string;
  value: number;
}

export interface RunFilter {
  status?: RunStatus;
  videoId?: string;
  limit?: number;
}

type RunKeyRow = Pick<RunRow, 'platform_id' | 'video_id' | 'run_id'>;

function wrap<T>(file: string, what: string, work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof TrendflowError) throw error;
    throw new TrendflowError('index_failed', `${what}: ${(error as Error).message}`, { path: file, cause: error });
  }
}

export class RunIndex {
  private constructor(
    readonly file: string,
    private readonly db: Database.Database,
  ) {}

  /** Opens (creating when needed) the index at `file`: WAL journal, foreign keys, the tables of this version. */
  static open(file: string): RunIndex {
    const resolved = path.resolve(file);
    return wrap(resolved, 'cannot open the run index', () => {
      mkdirSync(path.dirname(resolved), { recursive: true });
      const db = new Database(resolved, { timeout: BUSY_TIMEOUT_MS });
      try {
        db.pragma('journal_mode = WAL');
        db.pragma('foreign_keys = ON');
        // WAL + NORMAL: a committed transaction survives a process crash; the index is rebuildable anyway
        db.pragma('synchronous = NORMAL');
        db.transaction(() => {
          const version = db.pragma('user_version', { simple: true }) as number;
          if (version > INDEX_SCHEMA_VERSION) {
            throw new TrendflowError('index_failed', `the run index has schema version ${version}, newer than this program's ${INDEX_SCHEMA_VERSION}: move it aside and run \`trendflow index rebuild\``, { path: resolved });
          }
          db.exec(SCHEMA);
          db.pragma(`user_version = ${INDEX_SCHEMA_VERSION}`);
        }).immediate();
      } catch (error) {
        db.close();
        throw error;
      }
      return new RunIndex(resolved, db);
    });
  }

  close(): void {
    this.db.close();
  }

  /** Replaces everything the index holds about one run with what its manifest says (one transaction). */
  recordManifest(runDir: string, manifest: Manifest, profile: string | null = null): void {
    wrap(this.file, 'cannot record a run in the index', () => this.db.transaction(() => this.write(path.resolve(runDir), manifest, profile)).immediate());
  }

  /** Replaces the whole index with the given runs (one transaction: readers see the old or the new index). */
  replaceAll(runs: { runDir: string; manifest: Manifest; profile: string | null }[]): void {
    wrap(this.file, 'cannot rebuild the run index', () =>
      this.db
        .transaction(() => {
          this.db.exec('DELETE FROM metrics; DELETE FROM artifacts; DELETE FROM components; DELETE FROM runs;');
          for (const run of runs) this.write(path.resolve(run.runDir), run.manifest, run.profile);
        })
        .immediate(),
    );
  }

  removeRun(run: RunKeyRow): void {
    wrap(this.file, 'cannot remove a run from the index', () => {
      this.db.prepare('DELETE FROM runs WHERE platform_id = ? AND video_id = ? AND run_id = ?').run(run.platform_id, run.video_id, run.run_id);
    });
  }

  /** Runs, newest first. */
  listRuns(filter: RunFilter = {}): RunRow[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.status) {
      where.push('status = ?');
      params.push(filter.status);
    }
    if (filter.videoId) {
      where.push('video_id = ?');
      params.push(filter.videoId);
    }
    const sql = `SELECT * FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, run_id DESC${filter.limit ? ' LIMIT ?' : ''}`;
    if (filter.limit) params.push(filter.limit);
    return wrap(this.file, 'cannot list runs', () => this.db.prepare(sql).all(...params) as RunRow[]);
  }

  /** Runs with this run_id, or the run in this folder. */
  findRuns(reference: string): RunRow[] {
    return wrap(this.file, 'cannot look up a run', () =>
      this.db.prepare('SELECT * FROM runs WHERE run_id = ? OR run_dir = ? ORDER BY created_at DESC').all(reference, path.resolve(reference)) as RunRow[],
    );
  }

  components(run: RunKeyRow): ComponentRow[] {
    return wrap(this.file, 'cannot read components', () =>
      this.db.prepare('SELECT * FROM components WHERE platform_id = ? AND video_id = ? AND run_id = ? ORDER BY position').all(run.platform_id, run.video_id, run.run_id) as ComponentRow[],
    );
  }

  metrics(run: RunKeyRow): MetricRow[] {
    return wrap(this.file, 'cannot read metrics', () =>
      this.db.prepare('SELECT component, name, value FROM metrics WHERE platform_id = ? AND video_id = ? AND run_id = ? ORDER BY component, name').all(run.platform_id, run.video_id, run.run_id) as MetricRow[],
    );
  }

  /** Earlier ok/empty results with this cache key, newest first (their manifests are checked before reuse). */
  candidates(key: string, component: ComponentName): { run_dir: string; run_id: string }[] {
    return wrap(this.file, 'cannot look up the cache', () =>
      this.db.prepare('SELECT run_dir, run_id FROM cache_entries WHERE cache_key = ? AND component = ? ORDER BY finished_at DESC').all(key, component) as { run_dir: string; run_id: string }[],
    );
  }

  /** Row counts per table (for `index rebuild` and consistency checks). */
  counts(): { runs: number; components: number; artifacts: number; metrics: number } {
    return wrap(this.file, 'cannot count rows', () => {
      const count = (table: string): number => (this.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
      return { runs: count('runs'), components: count('components'), artifacts: count('artifacts'), metrics: count('metrics') };
    });
  }

  private write(runDir: string, manifest: Manifest, profile: string | null): void {
    const run = manifest.run;
    const key = [run.platform_id, run.video_id, run.run_id] as const;
    // a run folder that was deleted and re-created under the same path replaces the old row
    this.db.prepare('DELETE FROM runs WHERE run_dir = ? AND NOT (platform_id = ? AND video_id = ? AND run_id = ?)').run(runDir, ...key);
    this.db
      .prepare(
        `INSERT INTO runs (platform_id, video_id, run_id, run_dir, status, error_code, error_message, config_hash, sampling_policy_version,
           dataprocessor_version, profile, source_path, source_sha256, source_bytes, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (platform_id, video_id, run_id) DO UPDATE SET run_dir = excluded.run_dir, status = excluded.status,
           error_code = excluded.error_code, error_message = excluded.error_message, config_hash = excluded.config_hash,
           sampling_policy_version = excluded.sampling_policy_version, dataprocessor_version = excluded.dataprocessor_version,
           profile = COALESCE(excluded.profile, runs.profile), source_path = excluded.source_path, source_sha256 = excluded.source_sha256,
           source_bytes = excluded.source_bytes, created_at = excluded.created_at, updated_at = excluded.updated_at`,
      )
      .run(
        ...key,
        runDir,
        run.status,
        run.error?.error_code ?? null,
        run.error?.message ?? null,
        run.config_hash,
        run.sampling_policy_version,
        run.dataprocessor_version,
        profile,
        run.source_path ?? null,
        run.source_sha256 ?? null,
        run.source_bytes ?? null,
        run.created_at,
        run.updated_at,
      );
    for (const table of ['components', 'artifacts', 'metrics']) {
      this.db.prepare(`DELETE FROM ${table} WHERE platform_id = ? AND video_id = ? AND run_id = ?`).run(...key);
    }
    const insertComponent = this.db.prepare(
      `INSERT INTO components (platform_id, video_id, run_id, name, position, kind, status, empty_reason, error_code, error_message,
         producer_version, schema_version, started_at, finished_at, duration_ms, device_used, model_signature, cache_hit,
         cache_source_run_id, cache_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertArtifact = this.db.prepare('INSERT INTO artifacts (platform_id, video_id, run_id, component, path, bytes, sha256) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const insertMetric = this.db.prepare('INSERT INTO metrics (platform_id, video_id, run_id, component, name, value) VALUES (?, ?, ?, ?, ?, ?)');
    manifest.components.forEach((c, position) => {
      insertComponent.run(
        ...key,
        c.name,
        position,
        c.kind,
        c.status,
        c.empty_reason,
        c.error?.error_code ?? null,
        c.error?.message ?? null,
        c.producer_version,
        c.schema_version,
        c.started_at,
        c.finished_at,
        c.duration_ms,
        c.device_used,
        c.model_signature,
        c.cache_hit ? 1 : 0,
        c.cache_source_run_id,
        c.cache_key,
      );
      for (const artifact of c.artifacts) insertArtifact.run(...key, c.name, artifact.path, artifact.bytes, artifact.sha256);
      for (const [name, value] of Object.entries({ duration_ms: c.duration_ms, ...c.metrics })) insertMetric.run(...key, c.name, name, value);
    });
    const wall = Date.parse(run.updated_at) - Date.parse(run.created_at);
    if (Number.isFinite(wall)) insertMetric.run(...key, '', 'wall_ms', wall);
    const hits = manifest.components.filter((c) => c.cache_hit).length;
    if (manifest.components.length > 0) insertMetric.run(...key, '', 'cache_hit_rate', hits / manifest.components.length);
  }
}
