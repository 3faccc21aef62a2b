import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ComponentKind, ComponentName } from '../../core/contracts/components.js';
import type { Manifest, ManifestComponent } from '../../core/contracts/manifest.js';
import type { EmptyReason } from '../../core/contracts/status.js';
import { writeNpzFile, type NpzContents, type PyValue } from '../../core/npz/index.js';
import { describeArtifact, ManifestWriter } from '../../core/store/index.js';
import { audioArtifact, clipArtifact, faceArtifact } from './artifacts.js';
import { sampleComponent, sampleIdentity } from './manifest.js';

/** One artifact of a sample run: where it goes and what it holds. */
export interface ArtifactPlan {
  name: ComponentName;
  kind: ComponentKind;
  file: string;
  contents: NpzContents;
  models: boolean;
}

/** core_clip (ok), core_face_landmarks (empty: no faces) and loudness_extractor (ok), all valid. */
export function samplePlans(): ArtifactPlan[] {
  return [
    { name: 'core_clip', kind: 'core', file: 'embeddings.npz', contents: clipArtifact(), models: true },
    { name: 'core_face_landmarks', kind: 'core', file: 'landmarks.npz', contents: faceArtifact({ empty: true }), models: true },
    { name: 'loudness_extractor', kind: 'audio', file: 'loudness.npz', contents: audioArtifact('loudness_extractor'), models: false },
  ];
}

/** Writes the NPZ and returns the manifest entry describing it, with fields taken from its meta. */
async function record(runDir: string, plan: ArtifactPlan): Promise<ManifestComponent> {
  const file = path.join(runDir, plan.name, plan.file);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await writeNpzFile(file, plan.contents, { compress: true });
  const meta = plan.contents.get('meta')!.data[0] as { [key: string]: PyValue };
  const base = sampleComponent(plan.name, plan.kind);
  return {
    ...base,
    status: meta.status,
    empty_reason: meta.empty_reason as EmptyReason | null,
    artifacts: [await describeArtifact(runDir, file)],
    schema_version: meta.schema_version as string,
    models_used: plan.models ? base.models_used : [],
    model_signature: plan.models ? base.model_signature : null,
  } as ManifestComponent;
}

/**
 * A finished run under `parent` (`<platform>/<video>/<run>/`), written through core/store's ManifestWriter as the
 * orchestrator writes it. Returns the run folder.
 */
export async function writeSampleRun(parent: string, plans: ArtifactPlan[] = samplePlans()): Promise<string> {
  const identity = sampleIdentity();
  const runDir = path.join(parent, identity.platform_id, identity.video_id, identity.run_id);
  const writer = await ManifestWriter.create(runDir, { identity });
  try {
    for (const plan of plans) await writer.upsertComponent(await record(runDir, plan));
    await writer.setRunStatus('ok');
  } finally {
    await writer.close();
  }
  return runDir;
}

/** Rewrites manifest.json by hand (bypassing the writer's validation) to fake a broken or tampered run. */
export async function editManifest(runDir: string, edit: (manifest: Manifest) => void): Promise<void> {
  const file = path.join(runDir, 'manifest.json');
  const manifest = JSON.parse(await fs.readFile(file, 'utf8')) as Manifest;
  edit(manifest);
  await fs.writeFile(file, JSON.stringify(manifest, null, 2));
}
