import type { RunRef } from '../../../core/api/contract.js';
import { EmptyState, ErrorNotice, Loading } from '../components/Notice.js';
import { useApi } from '../hooks.js';

/**
 * Prediction intervals per target and horizon. The prediction component does not exist yet (issue 10), so this is
 * an honest empty state that says which case applies, read from the run's manifest.
 */
export function PredictionView({ run }: { run: RunRef }) {
  const timeline = useApi('views.timeline', { run });
  if (timeline.error) return <ErrorNotice error={timeline.error} />;
  if (!timeline.data) return <Loading what="run" />;
  const prediction = timeline.data.components.find((c) => c.name === 'prediction');
  return (
    <section className="view" data-testid="view-prediction">
      <header className="view-head">
        <h1>Prediction</h1>
      </header>
      {prediction ? (
        <EmptyState title={`A prediction (${prediction.status}) is in this run`}>This build of the workstation cannot draw the prediction artifact yet: its schema arrives with the prediction models (issue 10).</EmptyState>
      ) : (
        <EmptyState title="No prediction in this run">
          Views and likes predictions (p10/p50/p90 per target and 7/14/21-day horizon, with a confidence score) arrive with the prediction component (issue 10). Nothing is estimated here until a model has produced it.
        </EmptyState>
      )}
    </section>
  );
}
