/** core/api: the workstation API (see README.md). renderer/ and preload/ import only the types of contract.ts. */
export type * from './contract.js';
export { createWorkstationApi, type WorkstationApi, type WorkstationApiOptions } from './api.js';
export { ApiEventHub, type ApiEventListener } from './events.js';
export { checkParams, isApiMethod, MAX_CLIP_ROWS, MAX_FRAME_WIDTH, MAX_FRAMES_PER_CALL, PARAM_SCHEMAS } from './params.js';
export { CONTENT_SECURITY_POLICY, LOOPBACK_HOST, startWorkstationServer, type WorkstationServer, type WorkstationServerOptions } from './server.js';
export { DEFAULT_SETTINGS, SETTINGS_FILE_NAME, SettingsFile } from './settings.js';
export { encodeEnvelope, WIRE_CONTENT_TYPE, WIRE_MAGIC } from './wire.js';
export { mimeType, packageRoot, rendererDir, rendererFiles } from './paths.js';
export { AnalysisJobs, analysisWorkerEntry, forkAnalysisWorker, type AnalysisWorkerHandle, type AnalysisWorkerSpawner, type FromWorker, type ToWorker, type WorkerJob } from './jobs.js';
export { checkInputPath, defaultVideoDirs, listProfiles, listVideoFiles, VIDEO_DIRS_ENV, VIDEO_EXTENSIONS } from './analysis.js';
