/**
 * The Electron window's security rules as plain functions (no electron import), so they are tested without the
 * Electron binary (test/e2e-ui/main-security.test.ts). main.ts applies them.
 */

import { VIDEO_EXTENSIONS } from '../core/api/analysis.js';

/** The renderer is served from this privileged standard scheme (never file://), so it has a real origin. */
export const APP_SCHEME = 'app';
export const APP_HOST = 'trendflow';
export const APP_ENTRY = `${APP_SCHEME}://${APP_HOST}/index.html`;

/** IPC channels: the only ones main/ listens on and preload/ uses. */
export const IPC_CALL = 'trendflow:call';
export const IPC_PICK_FILE = 'trendflow:pick-file';
export const IPC_EVENT = 'trendflow:event';

/** True for `app://trendflow/…` (Node's URL gives non-special schemes the origin "null", so compare parts). */
export function isAppUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST && parsed.username === '' && parsed.password === '';
  } catch {
    return false;
  }
}

/** The request path of an app:// URL, for the lookup in the renderer's file table (core/api rendererFiles). */
export function appPath(url: string): string | null {
  if (!isAppUrl(url)) return null;
  return new URL(url).pathname;
}

export interface SenderFacts {
  /** The webContents that sent the message is the app window's. */
  fromAppWindow: boolean;
  /** It came from the main frame, not an iframe. */
  fromMainFrame: boolean;
  /** The sending frame's URL (empty when the frame is gone). */
  frameUrl: string;
}

/** An IPC message is accepted only from the app window's main frame showing the app's own page. */
export function senderAllowed(facts: SenderFacts): boolean {
  return facts.fromAppWindow && facts.fromMainFrame && isAppUrl(facts.frameUrl);
}

export const FILE_KINDS = {
  video: { name: 'Video', extensions: VIDEO_EXTENSIONS },
  metadata: { name: 'Video metadata (JSON)', extensions: ['json'] },
} as const;

export type FileKind = keyof typeof FILE_KINDS;

/** The folder dialog's kind on the same channel (pickFile): where a training bundle's folder is created. */
export const EXPORT_FOLDER_KIND = 'export_folder';

export function isFileKind(value: unknown): value is FileKind {
  return typeof value === 'string' && Object.hasOwn(FILE_KINDS, value);
}
