/** The Electron window's rules (main/security.ts), checked without the Electron binary. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { appPath, APP_ENTRY, isAppUrl, isFileKind, senderAllowed } from '../../main/security.js';

const repoRoot = path.resolve(import.meta.dirname, '../..');

describe('Electron main security rules', () => {
  it('recognizes only the app:// origin of the renderer', () => {
    expect(isAppUrl(APP_ENTRY)).toBe(true);
    expect(isAppUrl('app://trendflow/#/run/local/v/r/timeline')).toBe(true);
    for (const url of ['app://evil/index.html', 'app://trendflow.evil/index.html', 'app://user:pw@trendflow/', 'https://trendflow/', 'file:///app/index.html', 'http://127.0.0.1/', 'javascript:alert(1)', 'not a url', '']) {
      expect(isAppUrl(url), url).toBe(false);
    }
    expect(appPath('app://trendflow/assets/index-1.js')).toBe('/assets/index-1.js');
    expect(appPath('app://trendflow/assets/../../etc/passwd')).toBe('/etc/passwd');
    expect(appPath('https://trendflow/index.html')).toBeNull();
  });

  it('accepts IPC only from the app window main frame showing the app', () => {
    const ok = { fromAppWindow: true, fromMainFrame: true, frameUrl: APP_ENTRY };
    expect(senderAllowed(ok)).toBe(true);
    expect(senderAllowed({ ...ok, fromAppWindow: false })).toBe(false);
    expect(senderAllowed({ ...ok, fromMainFrame: false })).toBe(false);
    expect(senderAllowed({ ...ok, frameUrl: 'https://example.com/' })).toBe(false);
    expect(senderAllowed({ ...ok, frameUrl: '' })).toBe(false);
    expect([isFileKind('video'), isFileKind('metadata'), isFileKind('toString'), isFileKind('../x'), isFileKind(1)]).toEqual([true, true, false, false, false]);
  });

  it('creates the window locked down (checked in the source: the binary is not available here)', () => {
    const main = readFileSync(path.join(repoRoot, 'main/main.ts'), 'utf8');
    for (const setting of ['contextIsolation: true', 'sandbox: true', 'nodeIntegration: false', 'webSecurity: true', 'webviewTag: false', "action: 'deny'", "'will-navigate'", "'will-attach-webview'", 'setPermissionRequestHandler']) {
      expect(main, setting).toContain(setting);
    }
    const preload = readFileSync(path.join(repoRoot, 'preload/index.cts'), 'utf8');
    expect(preload.match(/exposeInMainWorld\(/g)).toHaveLength(1);
    expect(preload).not.toMatch(/ipcRenderer\.send\(|exposeInMainWorld\('ipcRenderer'/);
  });
});
