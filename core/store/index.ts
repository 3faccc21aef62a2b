export * from './atomic.js';
export * from './hash.js';
export * from './identity.js';
export * from './lock.js';
export * from './manifest.js';
export * from './manifest-schema.js';
export * from './paths.js';
export * from './runs.js';
