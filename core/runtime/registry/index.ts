/** The model registry: models/registry.json, the models dir, fetch/verify/add, models_used entries. See README.md. */
export * from './add.js';
export * from './fetch.js';
export { readLockFile } from './lockfile.js';
export * from './paths.js';
export { builtinRegistryPath, fileContract, loadRegistry, ModelRegistry, modelFile, readRegistryFile, type LoadRegistryOptions } from './registry.js';
export { FILE_NAME_PATTERN, MODEL_ID_PATTERN } from './schema.js';
export type * from './types.js';
export * from './used.js';
export { checkModelFile, digestWithStamp, locateModelFile, verifyModels, type FileCheck, type FileStatus, type FileVerification, type ModelVerification } from './verify.js';
