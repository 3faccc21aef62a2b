export {
  parseSchema,
  SCHEMA_FORMAT,
  SCHEMA_FORMAT_JSON_SCHEMA,
  type ArtifactSchema,
  type DimSpec,
  type ElementKind,
  type KeySpec,
  type Literal,
  type RuleSpec,
} from './format.js';
export { formatProblem, PROBLEM_CODES, type Problem, type ProblemCode } from './problems.js';
export { defaultSchemasDir, listSchemaComponents, loadAllSchemas, loadSchema, MANIFEST_SCHEMA_FILE } from './registry.js';
export { validateNpz, validateNpzFile, type NpzValidation, type ValidateNpzOptions } from './validate-npz.js';
export { validateRunDir, type RunValidation, type ValidateRunOptions } from './validate-run.js';
