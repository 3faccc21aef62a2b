import { promises as fs } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { TrendflowError, type ErrorCode } from '../../contracts/errors.js';
import { LEGACY_MANIFEST_VERSION } from '../../contracts/manifest.js';
import { formatProblem, validateNpzFile, validateRunDir, type Problem } from '../../schema/index.js';

interface ValidateOptions {
  json?: boolean;
  schema?: string;
  requiredMetaKeys?: string[];
}

/** The outcome for one PATH: what `--json` prints, and what the text output is made from. */
interface Outcome {
  path: string;
  kind: 'npz' | 'run';
  ok: boolean;
  problems: Problem[];
  /** One line saying what was validated, for the OK line. */
  summary: string;
}

function parseKeyList(value: string): string[] {
  const keys = value.split(',').map((key) => key.trim()).filter(Boolean);
  if (keys.length === 0) throw new InvalidArgumentError('give at least one meta key, e.g. producer,schema_version,status');
  return keys;
}

async function validatePath(target: string, options: ValidateOptions): Promise<Outcome> {
  const relax = options.requiredMetaKeys ? { requiredMetaKeys: options.requiredMetaKeys } : {};
  const stat = await fs.stat(target).catch(() => null);
  if (stat?.isDirectory()) {
    if (options.schema !== undefined) {
      throw new TrendflowError('invalid_argument', '--schema applies to .npz files, not run folders', { path: target });
    }
    const result = await validateRunDir(target, relax);
    const { manifest } = result;
    return {
      path: target,
      kind: 'run',
      ok: result.ok,
      problems: result.problems,
      summary: manifest
        ? `run ${manifest.run.run_id} (${manifest.run.status}), ${manifest.components.length} components, ${result.artifacts.length} artifacts${
            // an older store's manifest is valid for its version; say so, since the next change rewrites it as v2
            result.manifest_version === LEGACY_MANIFEST_VERSION ? `, ${LEGACY_MANIFEST_VERSION}` : ''
          }`
        : 'no valid manifest.json',
    };
  }
  // anything else is read as an NPZ; a missing or unreadable file comes back as a problem with the reader's code
  const result = await validateNpzFile(target, { ...relax, ...(options.schema === undefined ? {} : { schema: options.schema }) });
  const status = result.meta?.status;
  return {
    path: target,
    kind: 'npz',
    ok: result.ok,
    problems: result.problems,
    summary: result.schema
      ? `${result.schema.component} (${result.schema.schema_version}), status ${typeof status === 'string' ? status : 'unknown'}`
      : 'no schema chosen',
  };
}

/**
 * `trendflow validate PATH...`: checks .npz artifacts against schemas/ and run folders against their
 * manifest.json. Prints one line per problem (`file:key: code: message`) or an OK line per path; exits 1 when
 * any path has a problem, with one line per failing path on stderr.
 */
export function registerValidateCommand(program: Command): void {
  program
    .command('validate')
    .description('validate NPZ artifacts against their schemas, or run folders against their manifest.json')
    .argument('<paths...>', 'an .npz artifact, or a run folder (the one holding manifest.json)')
    .option('--json', 'print one JSON object per path: {path, kind, ok, problems[], summary}')
    .option('--schema <component>', "validate .npz files against this component's schema instead of meta.producer's")
    .option(
      '--required-meta-keys <keys>',
      'comma-separated meta keys to require instead of the full set (relaxes the check for legacy files)',
      parseKeyList,
    )
    .action(async (paths: string[], options: ValidateOptions) => {
      let failed = false;
      for (const target of paths) {
        const outcome = await validatePath(target, options);
        if (options.json) {
          process.stdout.write(`${JSON.stringify(outcome)}\n`);
        } else if (outcome.ok) {
          process.stdout.write(`OK ${target}: ${outcome.summary}\n`);
        } else {
          for (const problem of outcome.problems) process.stdout.write(`${formatProblem(problem)}\n`);
        }
        if (!outcome.ok) {
          failed = true;
          const code: ErrorCode = outcome.kind === 'run' ? 'run_invalid' : 'artifact_invalid';
          const count = outcome.problems.length;
          process.stderr.write(`trendflow: ${target}: ${code}: ${count} problem${count === 1 ? '' : 's'}\n`);
        }
      }
      if (failed) process.exitCode = 1;
    });
}
