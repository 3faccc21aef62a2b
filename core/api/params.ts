/**
 * Input validation of every API method: one JSON Schema per method, checked before a handler runs, so IPC and
 * HTTP callers (a compromised renderer, a hand-made request) can only pass well-formed, bounded parameters.
 * Unknown methods, unknown keys and out-of-range values are `invalid_argument`; ids must be safe path segments.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { COMPONENT_NAMES } from '../contracts/components.js';
import { TrendflowError } from '../contracts/errors.js';
import { RUN_STATUSES } from '../contracts/status.js';
import { ID_PATTERN } from '../store/identity.js';
import type { ApiMethod, ApiParams } from './contract.js';

/** Frames one `views.frames` call may ask for, and the widest preview it may ask for. */
export const MAX_FRAMES_PER_CALL = 64;
export const MAX_FRAME_WIDTH = 1280;
/** Rows of the CLIP matrices: 2000×2000 float32 is 16 MB, the most one view should hold. */
export const MAX_CLIP_ROWS = 2000;

const ID = { type: 'string', minLength: 1, maxLength: 128, pattern: ID_PATTERN.source } as const;
const RUN = {
  type: 'object',
  additionalProperties: false,
  required: ['platform_id', 'video_id', 'run_id'],
  properties: { platform_id: ID, video_id: ID, run_id: ID },
} as const;
const NONE = { type: 'object', additionalProperties: false, properties: {} } as const;
const PATH = { type: 'string', minLength: 1, maxLength: 4096 } as const;
const COMPONENT = { enum: [...COMPONENT_NAMES] } as const;

function object(required: string[], properties: Record<string, object>): object {
  return { type: 'object', additionalProperties: false, required, properties };
}

const SETTINGS_PATCH = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    models_dir: { anyOf: [PATH, { type: 'null' }] },
    runtime: { enum: ['inprocess', 'triton'] },
    device: { enum: ['cpu', 'cuda'] },
    triton_url: { anyOf: [{ type: 'string', maxLength: 2048, pattern: '^https?://[^\\s/?#]+(/[^\\s?#]*)?$' }, { type: 'null' }] },
    batch_sizes: {
      type: 'object',
      additionalProperties: false,
      properties: Object.fromEntries(COMPONENT_NAMES.map((name) => [name, { type: 'integer', minimum: 1, maximum: 4096 }])),
    },
    redis_url: { anyOf: [{ type: 'string', maxLength: 2048, pattern: '^rediss?://[^\\s/?#]+(/\\d{1,2})?$' }, { type: 'null' }] },
  },
} as const;

export const PARAM_SCHEMAS: Record<ApiMethod, object> = {
  'app.info': NONE,
  'runs.list': object([], {
    query: { type: 'string', maxLength: 256 },
    status: { type: 'array', maxItems: RUN_STATUSES.length, uniqueItems: true, items: { enum: [...RUN_STATUSES] } },
    limit: { type: 'integer', minimum: 1, maximum: 5000 },
  }),
  'runs.overview': object(['run'], { run: RUN }),
  'runs.compare': object(['a', 'b'], { a: RUN, b: RUN }),
  'views.timeline': object(['run'], { run: RUN }),
  'views.frames': object(['run', 'frames', 'max_width'], {
    run: RUN,
    frames: { type: 'array', minItems: 1, maxItems: MAX_FRAMES_PER_CALL, items: { type: 'integer', minimum: 0, maximum: 2 ** 31 - 1 } },
    max_width: { type: 'integer', minimum: 16, maximum: MAX_FRAME_WIDTH },
  }),
  'views.shot_thumbnails': object(['run', 'shots'], {
    run: RUN,
    shots: { type: 'array', minItems: 1, maxItems: MAX_FRAMES_PER_CALL, items: { type: 'integer', minimum: 0, maximum: 2 ** 31 - 1 } },
  }),
  'views.clip': object(['run'], { run: RUN, max_frames: { type: 'integer', minimum: 2, maximum: MAX_CLIP_ROWS } }),
  'views.faces': object(['run'], { run: RUN }),
  'views.face_landmarks': object(['run', 'row'], { run: RUN, row: { type: 'integer', minimum: 0, maximum: 2 ** 31 - 1 } }),
  'views.features': object(['run'], { run: RUN }),
  'views.pacing': object(['run'], { run: RUN }),
  'views.prediction': object(['run'], { run: RUN }),
  'analysis.start': object(['video_path'], {
    video_path: PATH,
    metadata_path: PATH,
    profile: ID,
    components: { type: 'array', minItems: 1, uniqueItems: true, items: COMPONENT },
  }),
  'analysis.cancel': object(['job_id'], { job_id: ID }),
  'analysis.list': NONE,
  'analysis.profiles': NONE,
  'analysis.videos': NONE,
  // runs or all (exactly one: checked by the handler, core/api/export.ts)
  'export.create': object([], { runs: { type: 'array', minItems: 1, maxItems: 10_000, uniqueItems: true, items: RUN }, all: { const: true }, parent_dir: PATH }),
  'settings.get': NONE,
  'settings.update': object(['patch'], { patch: SETTINGS_PATCH }),
  'models.status': object([], { verify: { type: 'boolean' } }),
  'queue.status': NONE,
};

const ajv = new Ajv({ allErrors: true, strict: true });
const validators = new Map<string, ValidateFunction>(Object.entries(PARAM_SCHEMAS).map(([method, schema]) => [method, ajv.compile(schema)]));

export function isApiMethod(value: unknown): value is ApiMethod {
  return typeof value === 'string' && validators.has(value);
}

function describe(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .slice(0, 5)
    .map((e) =>
      e.keyword === 'additionalProperties'
        ? `${e.instancePath || '/'} has unknown key ${JSON.stringify((e.params as { additionalProperty: string }).additionalProperty)}`
        : `${e.instancePath || '/'} ${e.message}`,
    )
    .join('; ');
}

/** Checks a method name and its parameters; `invalid_argument` naming every problem (up to five). */
export function checkParams<M extends ApiMethod>(method: unknown, params: unknown): { method: M; params: ApiParams<M> } {
  if (!isApiMethod(method)) {
    const shown = typeof method === 'string' ? JSON.stringify(method.slice(0, 64)) : typeof method;
    throw new TrendflowError('invalid_argument', `unknown API method ${shown}`);
  }
  const validate = validators.get(method)!;
  if (!validate(params)) throw new TrendflowError('invalid_argument', `${method}: ${describe(validate.errors)}`);
  return { method: method as M, params: params as ApiParams<M> };
}
