/** Hash routes: the address bar says where the analyst is, and back/forward work (Electron and browser). */
import type { RunRef } from '../../core/api/contract.js';

export const RUN_TABS = ['overview', 'timeline', 'clip', 'faces', 'prediction'] as const;
export type RunTab = (typeof RUN_TABS)[number];

export type Route =
  | { view: 'runs' }
  | { view: 'new' }
  | { view: 'export' }
  | { view: 'settings' }
  | { view: 'queue' }
  | { view: 'run'; run: RunRef; tab: RunTab }
  | { view: 'compare'; a: RunRef | null; b: RunRef | null };

const ID = '[A-Za-z0-9._-]+';
const REF = `(${ID})/(${ID})/(${ID})`;

function ref(match: RegExpExecArray, at: number): RunRef {
  return { platform_id: match[at]!, video_id: match[at + 1]!, run_id: match[at + 2]! };
}

export function refPath(run: RunRef): string {
  return `${run.platform_id}/${run.video_id}/${run.run_id}`;
}

export function sameRun(a: RunRef | null, b: RunRef | null): boolean {
  return a !== null && b !== null && a.platform_id === b.platform_id && a.video_id === b.video_id && a.run_id === b.run_id;
}

export function parseRoute(hash: string): Route {
  const path = decodeURIComponent(hash.replace(/^#/, ''));
  let m: RegExpExecArray | null;
  if ((m = new RegExp(`^/run/${REF}(?:/(${RUN_TABS.join('|')}))?$`).exec(path))) {
    return { view: 'run', run: ref(m, 1), tab: (m[4] as RunTab | undefined) ?? 'overview' };
  }
  if ((m = new RegExp(`^/compare/${REF}/vs/${REF}$`).exec(path))) return { view: 'compare', a: ref(m, 1), b: ref(m, 4) };
  if (path === '/compare') return { view: 'compare', a: null, b: null };
  if (path === '/new') return { view: 'new' };
  if (path === '/export') return { view: 'export' };
  if (path === '/settings') return { view: 'settings' };
  if (path === '/queue') return { view: 'queue' };
  return { view: 'runs' };
}

export function formatRoute(route: Route): string {
  switch (route.view) {
    case 'run':
      return `#/run/${refPath(route.run)}/${route.tab}`;
    case 'compare':
      return route.a && route.b ? `#/compare/${refPath(route.a)}/vs/${refPath(route.b)}` : '#/compare';
    default:
      return `#/${route.view}`;
  }
}
