export * from './components.js';
export * from './errors.js';
export * from './manifest.js';
export * from './meta.js';
export * from './status.js';
export * from './version.js';
