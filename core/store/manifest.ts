import { promises as fs } from 'node:fs';
import path from 'node:path';
import { TrendflowError } from '../contracts/errors.js';
import {
  MANIFEST_VERSION,
  type Manifest,
  type ManifestArtifact,
  type ManifestComponent,
  type ManifestError,
} from '../contracts/manifest.js';
import type { RunIdentity } from '../contracts/meta.js';
import type { RunStatus } from '../contracts/status.js';
import { removeAtomicLeftovers, writeFileAtomic } from './atomic.js';
import { hashFile } from './hash.js';
import type { RunSource } from './identity.js';
import { acquireRunLock, type RunLock } from './lock.js';
import { checkStoredManifest, validateManifest } from './manifest-schema.js';
import { manifestPath } from './paths.js';

export interface ManifestWriterOptions {
  /** Clock for `created_at`/`updated_at` (tests). */
  now?: () => Date;
}

export interface NewRun {
  identity: RunIdentity;
  source?: Partial<RunSource>;
}

/**
 * The single writer of one run's manifest.json (seed 001 §3). It holds the run lock (manifest.lock) for its
 * whole life, so no second writer — in this or another process — can exist; within the process its changes
 * are applied one at a time in call order. Every change is validated against schemas/manifest.json and then
 * written atomically; a change that fails leaves both the file and the writer's state as they were.
 */
export class ManifestWriter {
  private tail: Promise<unknown> = Promise.resolve();
  private closing: Promise<void> | undefined;

  private constructor(
    readonly runDir: string,
    private readonly lock: RunLock,
    private state: Manifest,
    private readonly now: () => Date,
  ) {}

  /**
   * Starts a new run: creates the run folder, takes the lock and writes a manifest with status `running` and no
   * components. Throws `run_exists` when the folder already has a manifest (use `open` to continue a run).
   */
  static async create(runDirectory: string, run: NewRun, options: ManifestWriterOptions = {}): Promise<ManifestWriter> {
    try {
      await fs.mkdir(runDirectory, { recursive: true });
    } catch (error) {
      throw new TrendflowError('store_io_failed', `cannot create run folder: ${(error as Error).message}`, {
        path: runDirectory,
        cause: error,
      });
    }
    const now = options.now ?? (() => new Date());
    const lock = await acquireRunLock(runDirectory);
    try {
      const file = manifestPath(runDirectory);
      await removeAtomicLeftovers(file);
      if (await fileExists(file)) {
        throw new TrendflowError('run_exists', 'run already has a manifest; open it to continue the run', { path: file });
      }
      const at = now().toISOString();
      const manifest: Manifest = {
        manifest_version: MANIFEST_VERSION,
        run: { ...run.identity, ...definedSource(run.source), status: 'running', error: null, created_at: at, updated_at: at },
        components: [],
      };
      const writer = new ManifestWriter(runDirectory, lock, manifest, now);
      await writer.persist(manifest);
      return writer;
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  /** Continues an existing run (resume, or recording more components): takes the lock and loads the manifest. */
  static async open(runDirectory: string, options: ManifestWriterOptions = {}): Promise<ManifestWriter> {
    const lock = await acquireRunLock(runDirectory);
    try {
      // Holding the lock, any temp file beside the manifest is a crashed writer's leftover.
      await removeAtomicLeftovers(manifestPath(runDirectory));
      const manifest = await readManifest(runDirectory);
      return new ManifestWriter(runDirectory, lock, manifest, options.now ?? (() => new Date()));
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  /** A copy of the manifest as last written. */
  get manifest(): Manifest {
    return structuredClone(this.state);
  }

  /** Records a component: replaces the entry with the same name in place, or appends a new one. */
  upsertComponent(entry: ManifestComponent): Promise<Manifest> {
    const copy = structuredClone(entry);
    return this.change((draft) => {
      const index = draft.components.findIndex((component) => component.name === copy.name);
      if (index === -1) draft.components.push(copy);
      else draft.components[index] = copy;
    });
  }

  /** Sets the run's status; `error` must be given exactly when the status is `error`. */
  setRunStatus(status: RunStatus, error: ManifestError | null = null): Promise<Manifest> {
    const copy = error === null ? null : { ...error };
    return this.change((draft) => {
      draft.run.status = status;
      draft.run.error = copy;
    });
  }

  /** Waits for pending changes, then releases the run lock. Later changes are refused. */
  close(): Promise<void> {
    this.closing ??= this.tail.then(() => this.lock.release());
    return this.closing;
  }

  private change(mutate: (draft: Manifest) => void): Promise<Manifest> {
    if (this.closing) {
      return Promise.reject(
        new TrendflowError('invalid_argument', 'manifest writer is closed', { path: manifestPath(this.runDir) }),
      );
    }
    const result = this.tail.then(async () => {
      const draft = structuredClone(this.state);
      mutate(draft);
      draft.run.updated_at = this.now().toISOString();
      await this.persist(draft);
      this.state = draft;
      return structuredClone(draft);
    });
    // A failed change is reported to its caller only; the next change starts from the last written state.
    this.tail = result.catch(() => undefined);
    return result;
  }

  private async persist(manifest: Manifest): Promise<void> {
    const file = manifestPath(this.runDir);
    const check = validateManifest(manifest);
    if (!check.ok) {
      throw new TrendflowError('manifest_invalid', `refusing to write an invalid manifest: ${summarize(check.errors)}`, {
        path: file,
      });
    }
    await this.lock.verify();
    await writeFileAtomic(file, `${JSON.stringify(manifest, null, 2)}\n`);
  }
}

/**
 * Reads and validates `<runDirectory>/manifest.json`; a manifest_v1 comes back upgraded to the current version
 * (its file is rewritten as such only when a writer next changes the run).
 */
export async function readManifest(runDirectory: string): Promise<Manifest> {
  const file = manifestPath(runDirectory);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new TrendflowError('manifest_not_found', 'run folder has no manifest.json', { path: file, cause: error });
    }
    throw new TrendflowError('file_read_failed', `cannot read manifest: ${(error as Error).message}`, { path: file, cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new TrendflowError('manifest_invalid', `manifest is not valid JSON: ${(error as Error).message}`, {
      path: file,
      cause: error,
    });
  }
  const check = checkStoredManifest(value);
  if (!check.manifest) {
    throw new TrendflowError('manifest_invalid', `manifest does not match schemas/manifest.json: ${summarize(check.errors)}`, {
      path: file,
    });
  }
  return check.manifest;
}

/**
 * The manifest entry for an artifact file inside a run folder: its path relative to the run folder with forward
 * slashes (the same on every OS), its size and sha256, read as a stream.
 */
export async function describeArtifact(runDirectory: string, artifactFile: string): Promise<ManifestArtifact> {
  const relative = path.relative(path.resolve(runDirectory), path.resolve(artifactFile));
  if (relative === '' || relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) {
    throw new TrendflowError('invalid_argument', 'artifact is not inside the run folder', { path: artifactFile });
  }
  const digest = await hashFile(artifactFile);
  return { path: relative.split(path.sep).join('/'), bytes: digest.bytes, sha256: digest.sha256 };
}

async function fileExists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new TrendflowError('store_io_failed', `cannot check for a manifest: ${(error as Error).message}`, {
      path: file,
      cause: error,
    });
  }
}

/** Keeps only the source fields that are set, so the in-memory manifest equals what JSON round-trips to. */
function definedSource(source: Partial<RunSource> = {}): Partial<RunSource> {
  return Object.fromEntries(Object.entries(source).filter(([, value]) => value !== undefined));
}

/** Error lists can be long (one line per field); the message keeps the first few and says how many more. */
function summarize(errors: string[], limit = 10): string {
  const shown = errors.slice(0, limit).join('; ');
  return errors.length > limit ? `${shown}; … ${errors.length - limit} more` : shown;
}
