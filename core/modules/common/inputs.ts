/**
 * How a module reads other components: only through their artifacts (ctx.inputs, DESIGN.md §3), checked to be the
 * producer and schema version it was written against, and recorded in `meta.dependencies` by signature.
 */
import path from 'node:path';
import type { ComponentName } from '../../contracts/components.js';
import { TrendflowError } from '../../contracts/errors.js';
import { getMeta, readNpzFile, type NpzContents, type PyValue } from '../../npz/index.js';
import type { ComponentInput, ComponentRunContext } from '../../pipeline/component.js';
import { describeArtifact } from '../../store/manifest.js';

/** What a module's run function needs from the orchestrator's context (tests build it by hand). */
export type ModuleContext = Pick<ComponentRunContext, 'identity' | 'runDir' | 'framesDir' | 'inputs' | 'signal' | 'onProgress'>;

/** An upstream artifact read into memory with its meta. */
export interface LoadedInput {
  input: ComponentInput;
  npz: NpzContents;
  meta: { [key: string]: PyValue };
}

/**
 * The ComponentInput of an artifact written into a run folder: the manifest entry and the signature that readers
 * put into `meta.dependencies` (`sha256:<artifact sha256>`), as the orchestrator builds it; for running modules
 * outside the orchestrator (tests, scripts).
 */
export async function inputFromArtifact(runDir: string, component: ComponentName, status: 'ok' | 'empty', file: string): Promise<ComponentInput> {
  const absolute = path.resolve(runDir, file);
  const artifact = await describeArtifact(runDir, absolute);
  return { component, status, path: absolute, artifact, signature: `sha256:${artifact.sha256}` };
}

/**
 * Reads `component`'s artifact when the run has it; null when it does not. A file whose meta names another
 * producer, or a schema version this module was not written against, is `artifact_invalid` (never a misread).
 */
export async function loadInput(ctx: Pick<ComponentRunContext, 'inputs'>, component: ComponentName, schemaVersions: string | readonly string[]): Promise<LoadedInput | null> {
  const input = ctx.inputs[component];
  if (!input) return null;
  const npz = await readNpzFile(input.path);
  const meta = getMeta(npz, input.path);
  const versions = typeof schemaVersions === 'string' ? [schemaVersions] : schemaVersions;
  if (meta.producer !== component || !versions.includes(String(meta.schema_version))) {
    throw new TrendflowError(
      'artifact_invalid',
      `expected a ${component} artifact of ${versions.join(' or ')}, found producer ${String(meta.producer)} schema ${String(meta.schema_version)}`,
      { path: input.path },
    );
  }
  return { input, npz, meta };
}

/** `meta.dependencies`: the signature of every upstream artifact a module read, by component. */
export function dependencySignatures(inputs: ReadonlyArray<LoadedInput | null>, extra: Record<string, string> = {}): Record<string, string> {
  const signatures: Record<string, string> = { ...extra };
  for (const loaded of inputs) if (loaded) signatures[loaded.input.component] = loaded.input.signature;
  return signatures;
}
