/**
 * The Electron main process, kept thin (DESIGN.md §2–§3): one window locked down (context isolation, sandbox, no
 * Node in the renderer, a strict CSP, no navigation, no new windows, no permissions), the renderer served from
 * app:// out of the built files only, the menu and file dialogs, and IPC bound to the core/api handler table with
 * sender checks (main/security.ts) and payload validation (core/api checkParams inside `invoke`).
 */
import { app, BrowserWindow, dialog, ipcMain, Menu, protocol, session, utilityProcess, type IpcMainInvokeEvent, type MenuItemConstructorOptions } from 'electron';
import { promises as fs } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CONTENT_SECURITY_POLICY, createWorkstationApi, mimeType, rendererDir, rendererFiles } from '../core/api/index.js';
import type { AnalysisWorkerSpawner, ApiEvent, FromWorker } from '../core/api/index.js';
import { resolveWorkspace } from '../core/store/index.js';
import { APP_ENTRY, APP_SCHEME, appPath, EXPORT_FOLDER_KIND, FILE_KINDS, IPC_CALL, IPC_EVENT, IPC_PICK_FILE, isAppUrl, isFileKind, senderAllowed } from './security.js';

// must happen before `ready`: app:// behaves like https (secure context, its own origin)
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true } }]);

/** `--workspace=DIR` on the command line, else $TRENDFLOW_WORKSPACE, else the app's user-data folder (DESIGN.md §4). */
function workspaceFromArgs(): string {
  const flag = process.argv.find((arg) => arg.startsWith('--workspace='));
  return resolveWorkspace({ workspace: flag?.slice('--workspace='.length) || process.env.TRENDFLOW_WORKSPACE || app.getPath('userData') });
}

const preloadFile = fileURLToPath(new URL('../preload/index.cjs', import.meta.url));

/** Analysis jobs run in a utilityProcess (core/api/analysis-worker.ts): off the main process, so the window never waits on the pipeline. */
const spawnUtilityWorker: AnalysisWorkerSpawner = (entry) => {
  const child = utilityProcess.fork(entry, [], { serviceName: 'TrendFlow analysis', stdio: 'inherit' });
  return {
    send: (message) => child.postMessage(message),
    onMessage: (listener) => child.on('message', (message: FromWorker) => listener(message)),
    onExit: (listener) => child.once('exit', (code) => listener(code)),
    kill: () => void child.kill(),
  };
};

async function serveRenderer(): Promise<void> {
  const files = await rendererFiles(rendererDir());
  protocol.handle(APP_SCHEME, async (request) => {
    const file = files.get(appPath(request.url) ?? '');
    if (!file) return new Response('not found', { status: 404 });
    const body = await fs.readFile(file);
    return new Response(body, { headers: { 'Content-Type': mimeType(file), 'Content-Security-Policy': CONTENT_SECURITY_POLICY, 'X-Content-Type-Options': 'nosniff' } });
  });
}

function lockDownSessions(): void {
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event, url) => {
      if (!isAppUrl(url)) event.preventDefault();
    });
    contents.on('will-redirect', (event, url) => {
      if (!isAppUrl(url)) event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });
}

function createWindow(): BrowserWindow {
  const window = new BrowserWindow({
    width: 1440,
    height: 900,
    minWidth: 1100,
    minHeight: 700,
    backgroundColor: '#14171c',
    title: 'TrendFlow Workstation',
    show: false,
    webPreferences: {
      preload: preloadFile,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  window.once('ready-to-show', () => window.show());
  void window.loadURL(APP_ENTRY);
  return window;
}

function buildMenu(window: BrowserWindow): void {
  const go = (route: ApiEvent & { type: 'ui.navigate' }): void => window.webContents.send(IPC_EVENT, route);
  const template: MenuItemConstructorOptions[] = [
    {
      label: 'File',
      submenu: [
        { label: 'New analysis…', accelerator: 'CmdOrCtrl+N', click: () => go({ type: 'ui.navigate', route: '#/new' }) },
        { label: 'Runs', accelerator: 'CmdOrCtrl+1', click: () => go({ type: 'ui.navigate', route: '#/runs' }) },
        { label: 'Settings', accelerator: 'CmdOrCtrl+,', click: () => go({ type: 'ui.navigate', route: '#/settings' }) },
        { type: 'separator' },
        { role: 'quit' },
      ],
    },
    {
      label: 'View',
      submenu: [
        { role: 'reload' },
        ...(app.isPackaged ? [] : [{ role: 'toggleDevTools' } as const]),
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
      ],
    },
    {
      label: 'Help',
      submenu: [
        {
          label: 'About TrendFlow Workstation',
          click: () => void dialog.showMessageBox(window, { type: 'info', title: 'TrendFlow Workstation', message: `TrendFlow Workstation ${app.getVersion()}` }),
        },
      ],
    },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}

async function start(): Promise<void> {
  await app.whenReady();
  lockDownSessions();
  await serveRenderer();
  const api = createWorkstationApi({ workspace: workspaceFromArgs(), mode: 'electron', spawnWorker: spawnUtilityWorker });
  const window = createWindow();
  buildMenu(window);

  const fromApp = (event: IpcMainInvokeEvent): boolean =>
    senderAllowed({
      fromAppWindow: !window.isDestroyed() && event.sender.id === window.webContents.id,
      fromMainFrame: event.senderFrame !== null && event.senderFrame === event.sender.mainFrame,
      frameUrl: event.senderFrame?.url ?? '',
    });

  ipcMain.handle(IPC_CALL, async (event, method: unknown, params: unknown) => {
    if (!fromApp(event)) return { ok: false, error: { code: 'access_denied', message: 'IPC from outside the app window' } };
    return api.invoke(method, params);
  });
  ipcMain.handle(IPC_PICK_FILE, async (event, kind: unknown) => {
    if (!fromApp(event)) return null;
    if (kind === EXPORT_FOLDER_KIND) {
      const result = await dialog.showOpenDialog(window, { title: 'Folder for the training bundle', properties: ['openDirectory', 'createDirectory'] });
      return result.canceled ? null : (result.filePaths[0] ?? null);
    }
    if (!isFileKind(kind)) return null;
    const result = await dialog.showOpenDialog(window, { properties: ['openFile'], filters: [{ name: FILE_KINDS[kind].name, extensions: [...FILE_KINDS[kind].extensions] }] });
    return result.canceled ? null : (result.filePaths[0] ?? null);
  });
  const unsubscribe = api.events.subscribe((event) => {
    if (!window.isDestroyed()) window.webContents.send(IPC_EVENT, event);
  });

  window.on('closed', () => {
    unsubscribe();
    api.close();
  });
  app.on('window-all-closed', () => app.quit());
}

start().catch((error: unknown) => {
  dialog.showErrorBox('TrendFlow Workstation cannot start', error instanceof Error ? error.message : String(error));
  app.exit(1);
});

