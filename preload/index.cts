/**
 * The contextBridge (DESIGN.md §3): exposes exactly the typed workstation API as `window.trendflow`, nothing else.
 * Sandboxed preloads are CommonJS and may require only `electron`; every argument is checked again in main/.
 */
import electron = require('electron');
import type { IpcRendererEvent } from 'electron';
import type { ApiEvent, ApiMethod, ApiParams, ApiResponse, ApiResult, TrendflowBridge } from '../core/api/contract.js';

const { contextBridge, ipcRenderer } = electron;

// the channel names of main/security.ts; preload may not import main/ (layering), so they are repeated here
const IPC_CALL = 'trendflow:call';
const IPC_PICK_FILE = 'trendflow:pick-file';
const IPC_EVENT = 'trendflow:event';

const bridge: TrendflowBridge = {
  mode: 'electron',
  call: <M extends ApiMethod>(method: M, params: ApiParams<M>) => ipcRenderer.invoke(IPC_CALL, method, params) as Promise<ApiResponse<ApiResult<M>>>,
  onEvent: (listener) => {
    // the listener never sees the IpcRendererEvent (it would expose ipcRenderer's sender)
    const forward = (_event: IpcRendererEvent, payload: ApiEvent): void => listener(payload);
    ipcRenderer.on(IPC_EVENT, forward);
    return () => {
      ipcRenderer.removeListener(IPC_EVENT, forward);
    };
  },
  pickFile: (kind) => ipcRenderer.invoke(IPC_PICK_FILE, kind) as Promise<string | null>,
};

contextBridge.exposeInMainWorld('trendflow', bridge);
