import type { ReactNode } from 'react';
import { refPath, RUN_TABS, type Route, type RunTab } from './route.js';
import { useApp } from './store.js';
import { ClipView } from './views/ClipView.js';
import { CompareView } from './views/CompareView.js';
import { ExportView } from './views/ExportView.js';
import { FacesView } from './views/FacesView.js';
import { NewAnalysisView } from './views/NewAnalysisView.js';
import { OverviewView } from './views/OverviewView.js';
import { PredictionView } from './views/PredictionView.js';
import { QueueView } from './views/QueueView.js';
import { RunsView } from './views/RunsView.js';
import { SettingsView } from './views/SettingsView.js';
import { TimelineView } from './views/TimelineView.js';

const TAB_LABELS: Record<RunTab, string> = { overview: 'Overview', timeline: 'Timeline', clip: 'CLIP', faces: 'Faces', prediction: 'Prediction' };

function NavLink({ to, active, children, testId }: { to: Route; active: boolean; children: ReactNode; testId: string }) {
  const navigate = useApp((s) => s.navigate);
  return (
    <button type="button" className={`nav-link${active ? ' active' : ''}`} aria-current={active ? 'page' : undefined} data-testid={testId} onClick={() => navigate(to)}>
      {children}
    </button>
  );
}

function Page({ route }: { route: Route }) {
  switch (route.view) {
    case 'runs':
      return <RunsView />;
    case 'new':
      return <NewAnalysisView />;
    case 'export':
      return <ExportView />;
    case 'settings':
      return <SettingsView />;
    case 'queue':
      return <QueueView />;
    case 'compare':
      return <CompareView a={route.a} b={route.b} />;
    case 'run':
      switch (route.tab) {
        case 'overview':
          return <OverviewView run={route.run} />;
        case 'timeline':
          return <TimelineView run={route.run} />;
        case 'clip':
          return <ClipView run={route.run} />;
        case 'faces':
          return <FacesView run={route.run} />;
        case 'prediction':
          return <PredictionView run={route.run} />;
      }
  }
}

export function App() {
  const { route, info, fatal, picked, redisUrl } = useApp();
  if (fatal) {
    return (
      <div className="fatal" role="alert" data-testid="fatal">
        <h1>TrendFlow Workstation</h1>
        <p>{fatal}</p>
      </div>
    );
  }
  const run = route.view === 'run' ? route.run : null;
  const watchesQueue = redisUrl !== null || route.view === 'queue';
  return (
    <div className="app">
      <nav className="sidebar" aria-label="Views">
        <div className="brand">
          TrendFlow<span>Workstation</span>
        </div>
        <NavLink to={{ view: 'runs' }} active={route.view === 'runs'} testId="nav-runs">
          Runs
        </NavLink>
        <NavLink to={{ view: 'new' }} active={route.view === 'new'} testId="nav-new">
          New analysis
        </NavLink>
        <NavLink to={{ view: 'compare', a: picked[0] ?? null, b: picked[1] ?? null }} active={route.view === 'compare'} testId="nav-compare">
          Compare
        </NavLink>
        <NavLink to={{ view: 'export' }} active={route.view === 'export'} testId="nav-export">
          Export
        </NavLink>
        {watchesQueue ? (
          <NavLink to={{ view: 'queue' }} active={route.view === 'queue'} testId="nav-queue">
            Queue
          </NavLink>
        ) : null}
        <NavLink to={{ view: 'settings' }} active={route.view === 'settings'} testId="nav-settings">
          Settings
        </NavLink>
        {run ? (
          <div className="run-nav">
            <div className="run-nav-title" title={refPath(run)}>
              {run.run_id}
            </div>
            {RUN_TABS.map((tab) => (
              <NavLink key={tab} to={{ view: 'run', run, tab }} active={route.view === 'run' && route.tab === tab} testId={`tab-${tab}`}>
                {TAB_LABELS[tab]}
              </NavLink>
            ))}
          </div>
        ) : null}
        <div className="sidebar-foot">
          {info ? (
            <>
              <div>
                v{info.version} · {info.mode === 'electron' ? 'desktop' : 'browser mode'}
              </div>
              <div className="muted" title={info.store}>
                {info.store}
              </div>
            </>
          ) : null}
        </div>
      </nav>
      <main className="page">
        <Page route={route} />
      </main>
    </div>
  );
}
