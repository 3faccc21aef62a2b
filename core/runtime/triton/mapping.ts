/**
 * `resolved_model_mapping` for a component running on Triton (seed 000, core_clip): the server URL and, for the
 * image and the text encoder, the Triton model name, version, input/output names and datatype, plus the
 * preprocessing preset and the batch size chosen outside the component.
 *
 * ```yaml
 * resolved_model_mapping:
 *   core_clip:
 *     runtime: triton
 *     triton_http_url: "http://triton:8000"
 *     triton_image_model_name: "clip_image"
 *     triton_image_model_version: "1"
 *     triton_image_input_name: "INPUT__0"
 *     triton_image_output_name: "OUTPUT__0"
 *     triton_image_datatype: "FP32"
 *     triton_text_model_name: "clip_text"
 *     triton_text_model_version: "1"
 *     triton_text_input_name: "INPUT__0"
 *     triton_text_output_name: "OUTPUT__0"
 *     triton_text_datatype: "INT64"
 *     triton_preprocess_preset: "openai_clip_224"
 *     batch_size: 16
 * ```
 */
import { Ajv, type ErrorObject } from 'ajv';
import { TrendflowError } from '../../contracts/errors.js';
import type { ModelMetadata } from './client.js';
import { CLIP_PRESET_NAMES, type ClipPresetName } from '../clip/preprocess.js';
import type { KServeDatatype } from './tensors.js';


export const TRITON_IMAGE_DATATYPES = ['FP32', 'FP16'] as const;
export const TRITON_TEXT_DATATYPES = ['INT64', 'INT32'] as const;

export interface TritonModelMapping {
  /** Optional in the mapping; when present it must be "triton". */
  runtime?: 'triton';
  triton_http_url: string;
  triton_image_model_name: string;
  /** A Triton version number, as a string ("1"); an integer in the source is accepted and turned into one. */
  triton_image_model_version: string;
  triton_image_input_name: string;
  triton_image_output_name: string;
  triton_image_datatype: (typeof TRITON_IMAGE_DATATYPES)[number];
  triton_text_model_name: string;
  triton_text_model_version: string;
  triton_text_input_name: string;
  triton_text_output_name: string;
  triton_text_datatype: (typeof TRITON_TEXT_DATATYPES)[number];
  triton_preprocess_preset: ClipPresetName;
  /** Set by the batch planner or the profile, never chosen inside the component. */
  batch_size: number;
}

/** One model of a mapping, as the client calls it. */
export interface TritonModelRef {
  url: string;
  model: string;
  version: string;
  input: string;
  output: string;
  datatype: KServeDatatype;
}

const NAME = { type: 'string', minLength: 1, maxLength: 200, pattern: '^[^/\\s]+$' } as const;
const VERSION = { anyOf: [{ type: 'string', pattern: '^[1-9][0-9]{0,17}$' }, { type: 'integer', minimum: 1 }] } as const;
const TENSOR_NAME = { type: 'string', minLength: 1, maxLength: 200 } as const;

const SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: [
    'triton_http_url',
    'triton_image_model_name',
    'triton_image_model_version',
    'triton_image_input_name',
    'triton_image_output_name',
    'triton_image_datatype',
    'triton_text_model_name',
    'triton_text_model_version',
    'triton_text_input_name',
    'triton_text_output_name',
    'triton_text_datatype',
    'triton_preprocess_preset',
    'batch_size',
  ],
  properties: {
    runtime: { const: 'triton' },
    triton_http_url: { type: 'string', pattern: '^https?://[^\\s]+$' },
    triton_image_model_name: NAME,
    triton_image_model_version: VERSION,
    triton_image_input_name: TENSOR_NAME,
    triton_image_output_name: TENSOR_NAME,
    triton_image_datatype: { enum: [...TRITON_IMAGE_DATATYPES] },
    triton_text_model_name: NAME,
    triton_text_model_version: VERSION,
    triton_text_input_name: TENSOR_NAME,
    triton_text_output_name: TENSOR_NAME,
    triton_text_datatype: { enum: [...TRITON_TEXT_DATATYPES] },
    triton_preprocess_preset: { enum: [...CLIP_PRESET_NAMES] },
    batch_size: { type: 'integer', minimum: 1, maximum: 4096 },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: true });
const validate = ajv.compile(SCHEMA);

function describe(error: ErrorObject): string {
  const where = error.instancePath ? error.instancePath.slice(1) : 'mapping';
  switch (error.keyword) {
    case 'additionalProperties':
      return `${where}: unknown key '${String(error.params.additionalProperty)}'`;
    case 'required':
      return `${where}: missing '${String(error.params.missingProperty)}'`;
    case 'enum':
      return `${where}: must be one of ${(error.params.allowedValues as unknown[]).map(String).join(', ')}`;
    case 'const':
      return `${where}: must be ${JSON.stringify(error.params.allowedValue)}`;
    case 'anyOf':
      return `${where}: must be a Triton version number such as "1"`;
    case 'pattern':
      return where === 'triton_http_url' ? `${where}: must be an http:// or https:// URL` : `${where}: ${error.message ?? 'bad value'}`;
    default:
      return `${where}: ${error.message ?? 'bad value'}`;
  }
}

/**
 * Checks a component's Triton mapping and returns it typed, versions as strings. Throws invalid_argument listing
 * every problem (`where` names the source, e.g. the config file and key, for the message).
 */
export function validateTritonModelMapping(value: unknown, where = 'resolved_model_mapping'): TritonModelMapping {
  if (!validate(value)) {
    // anyOf reports its branches too; the anyOf line says it better
    const errors = (validate.errors ?? []).filter((error) => !/_version\//.test(`${error.schemaPath}`) || error.keyword === 'anyOf');
    const problems = [...new Set(errors.map(describe))];
    throw new TrendflowError('invalid_argument', `${where}: invalid Triton mapping: ${problems.join('; ')}`);
  }
  const mapping = { ...(value as object) } as TritonModelMapping;
  try {
    new URL(mapping.triton_http_url);
  } catch {
    throw new TrendflowError('invalid_argument', `${where}: invalid Triton mapping: triton_http_url ${JSON.stringify(mapping.triton_http_url)} is not a URL`);
  }
  mapping.triton_image_model_version = String(mapping.triton_image_model_version);
  mapping.triton_text_model_version = String(mapping.triton_text_model_version);
  return mapping;
}

/** The image or the text encoder of a mapping. */
export function tritonModelRef(mapping: TritonModelMapping, which: 'image' | 'text'): TritonModelRef {
  return which === 'image'
    ? {
        url: mapping.triton_http_url,
        model: mapping.triton_image_model_name,
        version: mapping.triton_image_model_version,
        input: mapping.triton_image_input_name,
        output: mapping.triton_image_output_name,
        datatype: mapping.triton_image_datatype,
      }
    : {
        url: mapping.triton_http_url,
        model: mapping.triton_text_model_name,
        version: mapping.triton_text_model_version,
        input: mapping.triton_text_input_name,
        output: mapping.triton_text_output_name,
        datatype: mapping.triton_text_datatype,
      };
}

/**
 * Checks a model's metadata (from `TritonClient.modelMetadata` or `ensureModelReady`) against what the mapping
 * says: the input exists with the mapped datatype (and, when given, the shape without the batch dimension), and the
 * output exists. Throws invalid_argument naming both sides: the mapping and the server disagree.
 */
export function checkModelAgainstRef(metadata: ModelMetadata, ref: TritonModelRef, expectedInputDims?: number[]): void {
  const where = `model '${ref.model}' version ${ref.version} at ${ref.url}`;
  const list = (items: ModelMetadata['inputs']): string => items.map((item) => `${item.name} ${item.datatype} [${item.shape.join(',')}]`).join(', ');
  const input = metadata.inputs.find((item) => item.name === ref.input);
  if (!input) throw new TrendflowError('invalid_argument', `the mapping names input '${ref.input}' but ${where} has inputs: ${list(metadata.inputs)}`);
  if (input.datatype !== ref.datatype) {
    throw new TrendflowError('invalid_argument', `the mapping says input '${ref.input}' is ${ref.datatype} but ${where} takes ${input.datatype}`);
  }
  if (expectedInputDims) {
    const dims = input.shape.slice(input.shape.length - expectedInputDims.length);
    const fits = input.shape.length >= expectedInputDims.length && dims.every((dim, i) => dim === -1 || dim === expectedInputDims[i]);
    if (!fits) {
      throw new TrendflowError('invalid_argument', `input '${ref.input}' of ${where} has shape [${input.shape.join(',')}], expected [-1,${expectedInputDims.join(',')}]`);
    }
  }
  if (!metadata.outputs.some((item) => item.name === ref.output)) {
    throw new TrendflowError('invalid_argument', `the mapping names output '${ref.output}' but ${where} has outputs: ${list(metadata.outputs)}`);
  }
}
