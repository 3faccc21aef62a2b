/**
 * The model pre-flight check: before a run decodes anything, every model file the run config names for a component
 * that reads it from the models dir is looked at with one `stat` — missing, of the wrong size, or with no digest to
 * check against — so that a missing model is heard of at once, with the `npx trendflow models …` command that fixes
 * it, instead of after the whole video was segmented. The digest itself is still checked by the component when it
 * loads the model (locateModelFile, with its verification stamp): hashing gigabytes twice per run is not worth it.
 *
 * A component whose config reads only some of the models it names (Triton serves them, an engine runs none) says
 * which through its `localModels` hook (component.ts).
 *
 * Used by the orchestrator (a required component's problem ends the run before the probe; an optional one's is
 * recorded as that component's error without running it), by `trendflow analyze` (once before the first video)
 * and by the workstation's `analysis.start` (refused before a worker starts).
 */
import { promises as fs } from 'node:fs';
import type { ComponentName } from '../contracts/components.js';
import { TrendflowError } from '../contracts/errors.js';
import { modelFilePath } from '../runtime/registry/paths.js';
import type { ModelRegistry } from '../runtime/registry/registry.js';
import type { ModelEntry, ModelFile } from '../runtime/registry/types.js';
import { describeCheck, type FileCheck } from '../runtime/registry/verify.js';
import type { ComponentTable, ResolvedComponent, RunConfig } from './run-config.js';

/** The codes locateModelFile would fail the component with, found without reading the file. */
export type ModelProblemCode = 'model_not_found' | 'model_digest_mismatch' | 'model_unpinned';

export interface ModelProblem {
  component: ComponentName;
  required: boolean;
  model_id: string;
  file: string;
  error_code: ModelProblemCode;
  /** describeCheck's sentence: what is wrong and the command that fixes it. */
  message: string;
}

type FileProblem = FileCheck & { status: Exclude<FileCheck['status'], 'ok'> };

/**
 * The first half of checkModelFile (registry/verify.ts) — stat and size, no hashing, which checkModelFile does as
 * soon as the size matches — as the FileCheck that describeCheck words; null when the file is there with the
 * pinned size.
 */
async function statModelFile(modelsDir: string, entry: ModelEntry, file: ModelFile): Promise<FileProblem | null> {
  const filePath = modelFilePath(modelsDir, entry.id, file.name);
  const check = (status: FileProblem['status'], bytes: number | null): FileProblem => ({ status, path: filePath, sha256: null, bytes, fromStamp: false });
  let stat;
  try {
    stat = await fs.stat(filePath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return check('missing', null);
    throw new TrendflowError('file_read_failed', `cannot read model file: ${(error as Error).message}`, { path: filePath, cause: error });
  }
  if (!stat.isFile()) return check('mismatch', null);
  if (file.sha256 !== null && file.bytes !== null && stat.size !== file.bytes) return check('mismatch', stat.size);
  if (file.sha256 === null) return check('unpinned', stat.size);
  return null;
}

const CODES: Record<FileProblem['status'], ModelProblemCode> = { missing: 'model_not_found', mismatch: 'model_digest_mismatch', unpinned: 'model_unpinned' };

/**
 * The problems of every model file the config names for its components (only those in `only` when given: a resume
 * checks just the components it will run), in config order. A model id the registry no longer has throws
 * `model_unknown`.
 */
export async function checkModelFiles(config: RunConfig, modelsDir: string, registry: ModelRegistry, components: ComponentTable, only?: readonly ComponentName[]): Promise<ModelProblem[]> {
  const problems: ModelProblem[] = [];
  for (const [name, component] of Object.entries(config.components) as [ComponentName, ResolvedComponent][]) {
    if (only && !only.includes(name)) continue;
    const named = Object.keys(component.models);
    const local = new Set(components.get(name)?.localModels?.(component.params, named) ?? named);
    for (const [id, model] of Object.entries(component.models)) {
      if (!local.has(id)) continue;
      const entry = registry.get(id);
      for (const file of entry.files.filter((f) => f.name in model.files)) {
        const check = await statModelFile(modelsDir, entry, file);
        if (check === null) continue;
        problems.push({ component: name, required: component.required, model_id: id, file: file.name, error_code: CODES[check.status], message: describeCheck(modelsDir, entry, file, check) });
      }
    }
  }
  return problems;
}

export interface ProblemLine {
  error_code: ModelProblemCode;
  /** `core_clip (required): model clip-vit-b32-image file vision_model.onnx is not in DIR: run \`npx trendflow models fetch clip-vit-b32-image\`` */
  line: string;
}

/** One line per problem file, naming the components that need it (a file two components use is listed once). */
export function problemLines(problems: readonly ModelProblem[]): ProblemLine[] {
  const byMessage = new Map<string, { error_code: ModelProblemCode; who: string[] }>();
  for (const problem of problems) {
    const who = `${problem.component} (${problem.required ? 'required' : 'optional'})`;
    const group = byMessage.get(problem.message) ?? { error_code: problem.error_code, who: [] };
    if (!group.who.includes(who)) group.who.push(who);
    byMessage.set(problem.message, group);
  }
  return [...byMessage].map(([message, { error_code, who }]) => ({ error_code, line: `${who.join(', ')}: ${message}` }));
}

/** The code of a set of problems: `model_not_found` when a file is missing, else the first problem's. */
function codeOf(problems: readonly ModelProblem[]): ModelProblemCode {
  return problems.some((p) => p.error_code === 'model_not_found') ? 'model_not_found' : problems[0]!.error_code;
}

/**
 * The error that stops a run before it decodes anything (or refuses to start one) when a required component's
 * model is not usable; null when none is. Its message lists every problem of the run, optional components' too, so
 * that one look shows everything to fetch.
 */
export function requiredModelsFailure(problems: readonly ModelProblem[]): TrendflowError | null {
  const required = problems.filter((p) => p.required);
  if (required.length === 0) return null;
  return new TrendflowError(codeOf(required), `models of required components are not usable; nothing was analysed: ${problemLines(problems).map((p) => p.line).join('; ')}`);
}

/** The error each component with a problem is recorded with, without running it (optional components). */
export function componentModelFailures(problems: readonly ModelProblem[]): Map<ComponentName, TrendflowError> {
  const failures = new Map<ComponentName, TrendflowError>();
  for (const name of new Set(problems.map((p) => p.component))) {
    const own = problems.filter((p) => p.component === name);
    failures.set(name, new TrendflowError(codeOf(own), `not run: ${own.map((p) => p.message).join('; ')}`));
  }
  return failures;
}
