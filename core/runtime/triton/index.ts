/** Triton (KServe v2) runtime: client, Triton model mapping, and the model-repository export. See README.md. */
export {
  TritonClient,
  type TritonClientOptions,
  type RetryEvent,
  type ClientStats,
  type InferInput,
  type InferOptions,
  type ModelMetadata,
  type TensorMetadata,
  type RepositoryIndexEntry,
} from './client.js';
export {
  validateTritonModelMapping,
  tritonModelRef,
  checkModelAgainstRef,
  TRITON_IMAGE_DATATYPES,
  TRITON_TEXT_DATATYPES,
  type TritonModelMapping,
  type TritonModelRef,
} from './mapping.js';
export {
  exportTritonRepo,
  modelConfigText,
  tritonDataType,
  isBatching,
  locateInModelsDir,
  type ExportModelEntry,
  type ExportTensorSpec,
  type ExportRepoOptions,
  type ExportRepoResult,
  type ExportedModel,
  type LocatedFile,
} from './export-repo.js';
export { KSERVE_DATATYPES, type KServeDatatype, type Tensor, type TensorData, type OutputTensor, type NumericTensorData } from './tensors.js';
