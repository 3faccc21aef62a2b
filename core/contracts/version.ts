import { readFileSync } from 'node:fs';

/**
 * `dataprocessor_version` (DESIGN.md §4) is the package version, read once from package.json so there is a
 * single place to bump it. The file sits two levels above this module both in the sources and in dist/.
 */
function readPackageVersion(): string {
  for (const relative of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'trendflow-workstation' && pkg.version) return pkg.version;
    } catch {
      // not at this depth; try the next
    }
  }
  throw new Error('package.json of trendflow-workstation not found next to core/');
}

export const DATAPROCESSOR_VERSION: string = readPackageVersion();

/**
 * Version of the frame sampling policy (segmenter budgets, union-of-frames rules). It is part of every run's
 * identity and cache key, so bump it whenever the frames a component receives for the same video can change.
 */
export const SAMPLING_POLICY_VERSION = 'sampling_policy_v1';
