export { LocalFsStorage } from './local-fs.js';
export type { RunStorage } from './storage.js';
