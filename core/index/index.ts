/** core/index: the SQLite run index, its rebuild from result_store, and retention (see README.md). */
export * from './db.js';
export * from './gc.js';
export * from './lookup.js';
export * from './sync.js';
