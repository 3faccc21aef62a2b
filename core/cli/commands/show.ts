/**
 * `trendflow show RUN [--store DIR] [--json]`: one run — identity, status, each component with status, timings,
 * device, models, cache and artifacts (path, bytes, sha256), metrics, and the config it ran with. RUN is a run_id
 * or a run folder. The manifest is read as the source of truth; the index finds the run and holds its metrics.
 */
import type { Command } from 'commander';
import type { Manifest } from '../../contracts/manifest.js';
import { findRunDir } from '../../index/lookup.js';
import { openIndex, reconcileIndex } from '../../index/sync.js';
import { readRunRequest } from '../../pipeline/request.js';
import { readManifest } from '../../store/manifest.js';
import { resolveWorkspace } from '../../store/paths.js';
import { STORE_OPTION_HELP } from './analyze.js';

interface ShowCliOptions {
  store?: string;
  json?: boolean;
}

export function registerShowCommand(program: Command): void {
  program
    .command('show')
    .description('show one run: components, statuses, timings, models, artifacts and metrics')
    .argument('<run>', 'a run_id or a run folder')
    .option('--store <dir>', STORE_OPTION_HELP)
    .option('--json', 'one JSON object on stdout')
    .action(async (reference: string, options: ShowCliOptions) => {
      const workspace = resolveWorkspace({ workspace: options.store });
      const index = await openIndex(workspace);
      let runDir: string;
      let manifest: Manifest;
      let metrics: Record<string, Record<string, number>>;
      try {
        await reconcileIndex(index, workspace);
        runDir = findRunDir(index, reference);
        manifest = await readManifest(runDir);
        const row = index.findRuns(runDir)[0];
        metrics = {};
        if (row) {
          for (const m of index.metrics(row)) (metrics[m.component || 'run'] ??= {})[m.name] = m.value;
        } else {
          // a run folder outside this workspace's index: its metrics straight from the manifest
          for (const c of manifest.components) metrics[c.name] = { duration_ms: c.duration_ms, ...c.metrics };
        }
      } finally {
        index.close();
      }
      const request = await readRunRequest(workspace, manifest.run).catch(() => null);
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ run_dir: runDir, profile: request?.profile.name ?? null, manifest, metrics, config: request?.config ?? null, inputs: request?.inputs ?? null })}\n`);
        return;
      }
      const run = manifest.run;
      const lines = [
        `run ${run.run_id}: ${run.status}${run.error ? ` — ${run.error.error_code}: ${run.error.message}` : ''}`,
        `  folder    ${runDir}`,
        `  video     ${run.platform_id}/${run.video_id}${run.source_path ? `  ${run.source_path} (${run.source_bytes} bytes)` : ''}`,
        `  config    ${run.config_hash}${request ? `  profile ${request.profile.name}` : ''}`,
        `  versions  dataprocessor ${run.dataprocessor_version}, ${run.sampling_policy_version}`,
        `  created   ${run.created_at}, updated ${run.updated_at}`,
      ];
      if (request && request.config.not_implemented.length > 0) lines.push(`  not implemented yet: ${request.config.not_implemented.join(', ')}`);
      for (const c of manifest.components) {
        const state = c.status === 'error' ? `error ${c.error.error_code}: ${c.error.message}` : c.status === 'empty' ? `empty (${c.empty_reason})` : 'ok';
        lines.push(`  ${c.name}: ${state}`);
        lines.push(`    ${(c.duration_ms / 1000).toFixed(2)} s from ${c.started_at}${c.device_used ? ` on ${c.device_used}` : ''}${c.cache_hit ? `, cache hit from run ${c.cache_source_run_id}` : ''}`);
        if (c.models_used.length > 0) lines.push(`    models ${c.models_used.map((m) => `${m.model_name}@${m.model_version}`).join(', ')}  ${c.model_signature}`);
        for (const a of c.artifacts) lines.push(`    ${a.path}  ${a.bytes} bytes  sha256 ${a.sha256}`);
        const m = metrics[c.name] ?? {};
        const shown = Object.entries(m).filter(([name]) => name !== 'duration_ms');
        if (shown.length > 0) lines.push(`    metrics ${shown.map(([name, value]) => `${name}=${value}`).join(', ')}`);
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
