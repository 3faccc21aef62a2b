import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectImports, findViolations, loadLayerFiles } from './layering.js';

const repoRoot = path.resolve(import.meta.dirname, '../..');

describe('process layering (DESIGN.md §3)', () => {
  it('holds for the whole tree', () => {
    const files = loadLayerFiles(repoRoot);
    expect(files.some((file) => file.path.startsWith('core/'))).toBe(true);
    expect(findViolations(files)).toEqual([]);
  });

  it('fails when core/ imports electron, in any import form', () => {
    const forms = [
      `import { app } from 'electron';`,
      `import type { BrowserWindow } from 'electron';`,
      `export { ipcMain } from 'electron';`,
      `const electron = await import('electron');`,
      `const electron = require('electron');`,
      `import electron = require('electron');`,
      `type W = import('electron').BrowserWindow;`,
    ];
    for (const text of forms) {
      const violations = findViolations([{ path: 'core/pipeline/run.ts', text }]);
      expect(violations, text).toEqual([
        { file: 'core/pipeline/run.ts', specifier: 'electron', rule: 'core/ must not import electron' },
      ]);
    }
  });

  it('fails when core/ imports react or a file of another process', () => {
    expect(findViolations([{ path: 'core/api/x.ts', text: `import React from 'react';` }])).toHaveLength(1);
    expect(findViolations([{ path: 'core/api/x.ts', text: `import { w } from '../../main/window.js';` }])).toEqual([
      { file: 'core/api/x.ts', specifier: '../../main/window.js', rule: 'core/ must not import from main/' },
    ]);
    expect(findViolations([{ path: 'core/api/x.ts', text: `import '../../renderer/app.js';` }])).toHaveLength(1);
  });

  it('lets renderer/ import only types of core/contracts and core/api', () => {
    const ok = [
      `import type { Manifest } from '../core/contracts/manifest.js';`,
      `import { type ApiHandlers } from '../core/api/index.js';`,
    ];
    for (const text of ok) expect(findViolations([{ path: 'renderer/app.tsx', text }]), text).toEqual([]);
    const bad = [
      `import { COMPONENT_NAMES } from '../core/contracts/components.js';`,
      `import type { NdArray } from '../core/npz/types.js';`,
      `import { readNpzFile } from '../core/npz/index.js';`,
      `import { x } from '../main/ipc.js';`,
    ];
    for (const text of bad) expect(findViolations([{ path: 'renderer/app.tsx', text }]), text).toHaveLength(1);
  });

  it('sees every import form', () => {
    const refs = collectImports({
      path: 'core/a.ts',
      text: `import a from 'x'; import type { B } from 'y'; import { type C } from 'z'; export * from './w.js';`,
    });
    expect(refs).toEqual([
      { specifier: 'x', typeOnly: false },
      { specifier: 'y', typeOnly: true },
      { specifier: 'z', typeOnly: true },
      { specifier: './w.js', typeOnly: false },
    ]);
  });
});
