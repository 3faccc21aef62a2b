/**
 * Where finished runs are shared between machines (seed 002 §10). Keys are relative POSIX paths under the shared
 * result_store (`<platform_id>/<video_id>/<run_id>/manifest.json`), so the same keys name a file on an NFS mount
 * or an object in an S3-compatible bucket. Only LocalFsStorage (a local or NFS-mounted folder) exists now.
 */
export interface RunStorage {
  /** A readable description for messages: the folder, or the bucket and prefix. */
  readonly location: string;
  /** Whether a file exists at `key`. */
  exists(key: string): Promise<boolean>;
  /** The bytes at `key`; a missing key is `file_read_failed`. */
  get(key: string): Promise<Uint8Array>;
  /** Writes one file atomically: a reader sees the old bytes or the new ones, never a mix. */
  put(key: string, data: Uint8Array | string): Promise<void>;
  /** The keys of every file under `prefix` (a folder: ends in `/`; '' for all), sorted. */
  list(prefix: string): Promise<string[]>;
  /**
   * Publishes a finished run folder from local disk under `runPrefix` (`<platform>/<video>/<run>`) so that it
   * appears whole or not at all: on a filesystem a staged copy renamed into place, on object storage every
   * artifact first and `manifest.json` last (a run is a folder holding a manifest: core/store listRuns).
   * A run already there is `run_exists`.
   */
  commitRun(localRunDir: string, runPrefix: string): Promise<void>;
}
