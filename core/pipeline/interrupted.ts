/**
 * A run whose manifest says `running` but whose writer is gone (the process was killed: kill -9, a crash, a power
 * loss) is interrupted (DESIGN.md §9). Its lock names a dead process, so taking the lock succeeds; the manifest
 * then records `interrupted` until `resume` finishes the run. A run whose writer is alive keeps its lock and is
 * left alone.
 */
import { isTrendflowError } from '../contracts/errors.js';
import type { Manifest } from '../contracts/manifest.js';
import { ManifestWriter } from '../store/manifest.js';

/** Marks the run interrupted when it says running and nobody holds its lock; returns the new manifest, else null. */
export async function markInterrupted(runDir: string): Promise<Manifest | null> {
  let writer: ManifestWriter;
  try {
    writer = await ManifestWriter.open(runDir);
  } catch (error) {
    // a live writer holds the lock: the run is really running
    if (isTrendflowError(error) && error.code === 'run_locked') return null;
    throw error;
  }
  try {
    return writer.manifest.run.status === 'running' ? await writer.setRunStatus('interrupted') : null;
  } finally {
    await writer.close();
  }
}
