/**
 * The checklist (seed 003 Q13, Q39: «чек-лист»): for each component and device, the memory of its loaded models,
 * the extra memory per frame in a batch and the time per frame at measured batch sizes. The unit is one frame at
 * the component's model input size. `trendflow bench calibrate` measures it on the machine at hand and writes it
 * into the models dir; the repository's models/checklist.json is the reference measurement used until then.
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { isComponentName, type ComponentName } from '../../contracts/components.js';
import { TrendflowError } from '../../contracts/errors.js';
import { writeFileAtomic } from '../../store/atomic.js';

export const CHECKLIST_FORMAT = 'trendflow_checklist_v1';
export const CHECKLIST_FILE = 'checklist.json';

export interface ChecklistMeasurement {
  batch_size: number;
  ms_per_frame: number;
  /** Peak resident memory of the process during the batch, model included. */
  peak_bytes: number;
}

export interface ChecklistEntry {
  component: ComponentName;
  device: 'cpu' | 'cuda';
  /** The registry ids of the models measured (a different model needs a new measurement). */
  model_ids: string[];
  /** Model input side in pixels (e.g. 224 for openai_clip_224). */
  input_size: number;
  model_bytes: number;
  bytes_per_frame: number;
  /** Beyond this batch size time per frame stopped improving (or the largest size measured). */
  max_batch_size: number;
  measurements: ChecklistMeasurement[];
  /**
   * `measured` by `bench calibrate` on the machine named in the checklist; `estimated` for reference entries of
   * models that could not be run where the reference was made (derivation in `note`). Calibrate replaces both.
   */
  origin: 'measured' | 'estimated';
  note?: string;
}

export interface Checklist {
  format: typeof CHECKLIST_FORMAT;
  measured_at: string;
  machine: { cpu: string; cores: number; ram_bytes: number; gpu: string | null; onnxruntime: string };
  entries: ChecklistEntry[];
}

const positive = { type: 'number', exclusiveMinimum: 0 } as const;
const CHECKLIST_SCHEMA = {
  type: 'object',
  required: ['format', 'measured_at', 'machine', 'entries'],
  properties: {
    format: { const: CHECKLIST_FORMAT },
    measured_at: { type: 'string' },
    machine: { type: 'object' },
    entries: {
      type: 'array',
      items: {
        type: 'object',
        required: ['component', 'device', 'model_ids', 'input_size', 'model_bytes', 'bytes_per_frame', 'max_batch_size', 'measurements', 'origin'],
        properties: {
          component: { type: 'string' },
          device: { enum: ['cpu', 'cuda'] },
          model_ids: { type: 'array', items: { type: 'string' } },
          input_size: { type: 'integer', minimum: 1 },
          model_bytes: { type: 'number', minimum: 0 },
          bytes_per_frame: positive,
          max_batch_size: { type: 'integer', minimum: 1 },
          origin: { enum: ['measured', 'estimated'] },
          note: { type: 'string' },
          measurements: {
            type: 'array',
            minItems: 1,
            items: {
              type: 'object',
              required: ['batch_size', 'ms_per_frame', 'peak_bytes'],
              properties: { batch_size: { type: 'integer', minimum: 1 }, ms_per_frame: positive, peak_bytes: positive },
            },
          },
        },
      },
    },
  },
} as const;

const validate = new Ajv({ allErrors: true }).compile(CHECKLIST_SCHEMA);

export function parseChecklist(text: string, file: string): Checklist {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new TrendflowError('invalid_argument', `checklist is not JSON: ${(error as Error).message}`, { path: file, cause: error });
  }
  if (!validate(value)) {
    const why = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
    throw new TrendflowError('invalid_argument', `checklist does not match ${CHECKLIST_FORMAT}: ${why}`, { path: file });
  }
  const checklist = value as unknown as Checklist;
  for (const entry of checklist.entries) {
    if (!isComponentName(entry.component)) throw new TrendflowError('invalid_argument', `checklist names an unknown component ${JSON.stringify(entry.component)}`, { path: file });
    entry.measurements.sort((a, b) => a.batch_size - b.batch_size);
  }
  return checklist;
}

/** The repository's reference checklist (models/checklist.json), found from the sources and from dist/. */
export function referenceChecklistPath(): string {
  for (const relative of ['../../../models', '../../../../models']) {
    const candidate = path.resolve(path.dirname(fileURLToPath(import.meta.url)), relative, CHECKLIST_FILE);
    if (existsSync(candidate)) return candidate;
  }
  throw new TrendflowError('internal_error', `models/${CHECKLIST_FILE} not found beside core/`);
}

/** A checklist file, or null when there is none. */
export async function readChecklistFile(file: string): Promise<Checklist | null> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new TrendflowError('store_io_failed', `cannot read the checklist: ${(error as Error).message}`, { path: file, cause: error });
  }
  return parseChecklist(text, file);
}

/**
 * The checklist in force: the one `bench calibrate` wrote into the models dir (this machine), else the
 * repository's reference one.
 */
export async function loadChecklist(modelsDir: string | null): Promise<{ checklist: Checklist; file: string }> {
  if (modelsDir) {
    const file = path.join(modelsDir, CHECKLIST_FILE);
    const local = await readChecklistFile(file);
    if (local) return { checklist: local, file };
  }
  const file = referenceChecklistPath();
  const reference = await readChecklistFile(file);
  if (!reference) throw new TrendflowError('internal_error', `the reference checklist ${file} disappeared`);
  return { checklist: reference, file };
}

export function findChecklistEntry(checklist: Checklist, component: ComponentName, device: 'cpu' | 'cuda', file: string): ChecklistEntry {
  const entry = checklist.entries.find((e) => e.component === component && e.device === device);
  if (!entry) {
    throw new TrendflowError(
      'invalid_argument',
      `the checklist has no ${component} measurement on ${device}; measure it with \`npx trendflow bench calibrate --components ${component} --device ${device}\``,
      { path: file },
    );
  }
  return entry;
}

/** Replaces the entries measured again (same component and device) and keeps the others. */
export function mergeChecklist(previous: Checklist | null, measured: Omit<Checklist, 'entries'>, entries: ChecklistEntry[]): Checklist {
  const replaced = (e: ChecklistEntry) => entries.some((n) => n.component === e.component && n.device === e.device);
  return { ...measured, entries: [...(previous?.entries.filter((e) => !replaced(e)) ?? []), ...entries] };
}

export async function writeChecklist(file: string, checklist: Checklist): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(checklist, null, 2)}\n`);
}
