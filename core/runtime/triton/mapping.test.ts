import { describe, expect, it } from 'vitest';
import { TrendflowError } from '../../contracts/errors.js';
import { tritonModelRef, validateTritonModelMapping } from './mapping.js';

/** The example of seed 000 (core_clip, runtime=triton). */
const SEED_EXAMPLE = {
  runtime: 'triton',
  triton_http_url: 'http://triton:8000',
  triton_image_model_name: 'clip_image',
  triton_image_model_version: '1',
  triton_image_input_name: 'INPUT__0',
  triton_image_output_name: 'OUTPUT__0',
  triton_image_datatype: 'FP32',
  triton_text_model_name: 'clip_text',
  triton_text_model_version: '1',
  triton_text_input_name: 'INPUT__0',
  triton_text_output_name: 'OUTPUT__0',
  triton_text_datatype: 'INT64',
  triton_preprocess_preset: 'openai_clip_224',
  batch_size: 16,
};

function problem(value: unknown): string {
  try {
    validateTritonModelMapping(value, 'profile.yaml:resolved_model_mapping.core_clip');
  } catch (error) {
    expect(error).toBeInstanceOf(TrendflowError);
    expect((error as TrendflowError).code).toBe('invalid_argument');
    return (error as TrendflowError).message;
  }
  throw new Error('expected the mapping to be refused');
}

describe('validateTritonModelMapping', () => {
  it('accepts the seed 000 example and gives the image and text models', () => {
    const mapping = validateTritonModelMapping(SEED_EXAMPLE);
    expect(mapping).toEqual(SEED_EXAMPLE);
    expect(tritonModelRef(mapping, 'image')).toEqual({
      url: 'http://triton:8000',
      model: 'clip_image',
      version: '1',
      input: 'INPUT__0',
      output: 'OUTPUT__0',
      datatype: 'FP32',
    });
    expect(tritonModelRef(mapping, 'text')).toMatchObject({ model: 'clip_text', datatype: 'INT64' });
  });

  it('takes integer versions and an absent runtime key', () => {
    const { runtime: _runtime, ...rest } = SEED_EXAMPLE;
    const mapping = validateTritonModelMapping({ ...rest, triton_image_model_version: 2, triton_text_model_version: 3 });
    expect(mapping.triton_image_model_version).toBe('2');
    expect(mapping.triton_text_model_version).toBe('3');
    for (const preset of ['openai_clip_336', 'openai_clip_448']) {
      expect(validateTritonModelMapping({ ...SEED_EXAMPLE, triton_preprocess_preset: preset }).triton_preprocess_preset).toBe(preset);
    }
  });

  it('refuses bad mappings with invalid_argument, naming each problem and the source', () => {
    expect(problem({ ...SEED_EXAMPLE, triton_image_datatype: 'INT64' })).toMatch(/profile\.yaml.*triton_image_datatype: must be one of FP32, FP16/);
    expect(problem({ ...SEED_EXAMPLE, triton_text_datatype: 'FP32' })).toContain('triton_text_datatype');
    expect(problem({ ...SEED_EXAMPLE, triton_preprocess_preset: 'openai_clip_512' })).toContain('openai_clip_224, openai_clip_336, openai_clip_448');
    expect(problem({ ...SEED_EXAMPLE, batch_size: 0 })).toContain('batch_size');
    expect(problem({ ...SEED_EXAMPLE, batch_size: 'auto' })).toContain('batch_size');
    expect(problem({ ...SEED_EXAMPLE, triton_image_model_version: 'latest' })).toContain('triton_image_model_version: must be a Triton version number');
    expect(problem({ ...SEED_EXAMPLE, triton_image_model_version: 0 })).toContain('triton_image_model_version');
    expect(problem({ ...SEED_EXAMPLE, triton_http_url: 'triton:8000' })).toContain('triton_http_url: must be an http:// or https:// URL');
    expect(problem({ ...SEED_EXAMPLE, runtime: 'inprocess' })).toContain('runtime: must be "triton"');
    expect(problem({ ...SEED_EXAMPLE, triton_image_model_nmae: 'x' })).toContain("unknown key 'triton_image_model_nmae'");
    expect(problem({ ...SEED_EXAMPLE, triton_text_model_name: 'a/b' })).toContain('triton_text_model_name');
    const { triton_text_output_name: _dropped, ...missing } = SEED_EXAMPLE;
    expect(problem(missing)).toContain("missing 'triton_text_output_name'");
    const both = problem({ ...SEED_EXAMPLE, batch_size: -1, triton_image_datatype: 'X' });
    expect(both).toContain('batch_size');
    expect(both).toContain('triton_image_datatype');
    expect(problem(null)).toContain('invalid Triton mapping');
    expect(problem('http://triton:8000')).toContain('invalid Triton mapping');
  });
});
