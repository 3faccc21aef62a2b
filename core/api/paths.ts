import { existsSync, promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TrendflowError } from '../contracts/errors.js';

/**
 * The package folder (the one whose package.json is trendflow-workstation), found from this module both in the
 * sources (core/api/) and in the build (dist/core/api/).
 */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'trendflow-workstation') return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('package.json of trendflow-workstation not found above core/api');
    dir = parent;
  }
}

/** Where `npm run build` puts the renderer (vite.config.ts). */
export function rendererDir(): string {
  return path.join(packageRoot(), 'dist', 'renderer');
}

/** Content types of the files a renderer build holds; other files are never served. */
const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.map': 'application/json',
};

export function mimeType(file: string): string {
  const type = MIME[path.extname(file)];
  if (!type) throw new TrendflowError('invalid_argument', `no content type for ${path.basename(file)}`);
  return type;
}

/**
 * Every file of the built renderer by URL path (`/index.html`, `/assets/index-3f2a.js`, and `/` for index.html).
 * Browser mode and Electron's app:// protocol serve only these: a request path is looked up, never joined onto
 * a folder, so no path can reach outside the build. `renderer_not_built` when there is no index.html.
 */
export async function rendererFiles(dir: string): Promise<Map<string, string>> {
  const root = path.resolve(dir);
  const table = new Map<string, string>();
  const walk = async (folder: string, prefix: string): Promise<void> => {
    for (const entry of await fs.readdir(folder, { withFileTypes: true })) {
      const file = path.join(folder, entry.name);
      if (entry.isDirectory()) await walk(file, `${prefix}${entry.name}/`);
      else if (entry.isFile() && MIME[path.extname(entry.name)]) table.set(`/${prefix}${entry.name}`, file);
    }
  };
  try {
    await walk(root, '');
  } catch (error) {
    throw new TrendflowError('renderer_not_built', `cannot read the built renderer: ${(error as Error).message}; run \`npm run build\``, { path: root });
  }
  const index = table.get('/index.html');
  if (!index) throw new TrendflowError('renderer_not_built', 'the renderer is not built (no index.html); run `npm run build`', { path: root });
  table.set('/', index);
  return table;
}
