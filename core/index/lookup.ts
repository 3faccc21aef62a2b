import { existsSync } from 'node:fs';
import path from 'node:path';
import { TrendflowError } from '../contracts/errors.js';
import { manifestPath } from '../store/paths.js';
import type { RunIndex } from './db.js';

/**
 * The folder of a run given as a path to its folder or as a run_id. A run_id must name one run in the index
 * (several videos may share a caller-chosen run_id: then the folder must be given).
 */
export function findRunDir(index: RunIndex, reference: string): string {
  const asPath = path.resolve(reference);
  if (existsSync(manifestPath(asPath))) return asPath;
  const rows = index.findRuns(reference);
  if (rows.length === 0) throw new TrendflowError('run_not_found', `no run ${JSON.stringify(reference)} in the index (give a run_id or a run folder; \`trendflow index rebuild\` refreshes the index)`, { path: index.file });
  if (rows.length > 1) {
    throw new TrendflowError('invalid_argument', `run_id ${reference} names ${rows.length} runs; give the run folder instead: ${rows.map((r) => r.run_dir).join(', ')}`);
  }
  return rows[0]!.run_dir;
}
