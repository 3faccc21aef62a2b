/**
 * `trendflow gc [--dry-run] [--keep-earlier N] [--max-age-days D] [--frames-ttl-days D] [--store DIR] [--json]`:
 * retention (core/index/gc.ts, DESIGN.md §9): removes old runs and frames, and removes raw comment text whose
 * retention has run out from the text_processor artifacts of kept runs. `--dry-run` lists exactly what `gc` would
 * remove, touching nothing.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { applyGc, DEFAULT_RETENTION, planGc, type GcItem, type GcRedaction } from '../../index/gc.js';
import { openIndex, reconcileIndex } from '../../index/sync.js';
import { resolveWorkspace } from '../../store/paths.js';
import { STORE_OPTION_HELP } from './analyze.js';

interface GcCliOptions {
  dryRun?: boolean;
  keepEarlier: number;
  maxAgeDays: number;
  framesTtlDays: number;
  store?: string;
  json?: boolean;
}

function wholeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('a whole number ≥ 0');
  return n;
}

function describe(item: GcItem): string {
  return `${item.kind.padEnd(7)} ${item.path}  (${item.reason})`;
}

function describeRedaction(item: GcRedaction): string {
  return `raw text from ${item.path}  (${item.reason})`;
}

export function registerGcCommand(program: Command): void {
  program
    .command('gc')
    .description(
      'remove old runs and frames by the retention policy (the last successful run per key plus earlier ones, a hard age cap, a frames_dir TTL), and raw comment text past its retention_days from the text_processor artifacts of kept runs',
    )
    .option('--dry-run', 'list what would be removed; change nothing')
    .option('--keep-earlier <n>', 'runs kept before the last successful one of each key', wholeNumber, DEFAULT_RETENTION.keepEarlier)
    .option('--max-age-days <d>', 'hard cap: runs older than this are removed', wholeNumber, DEFAULT_RETENTION.maxAgeDays)
    .option('--frames-ttl-days <d>', 'frames_dir lifetime', wholeNumber, DEFAULT_RETENTION.framesTtlDays)
    .option('--store <dir>', STORE_OPTION_HELP)
    .option('--json', 'one JSON object on stdout')
    .action(async (options: GcCliOptions) => {
      const workspace = resolveWorkspace({ workspace: options.store });
      const index = await openIndex(workspace);
      try {
        // runs whose writer died are interrupted, not in progress: the policy may remove them
        await reconcileIndex(index, workspace);
        const policy = { keepEarlier: options.keepEarlier, maxAgeDays: options.maxAgeDays, framesTtlDays: options.framesTtlDays };
        const plan = await planGc(workspace, policy);
        if (options.dryRun) {
          if (options.json) process.stdout.write(`${JSON.stringify({ dry_run: true, policy, remove: plan.remove, redact: plan.redact, in_progress: plan.in_progress, unreadable: plan.unreadable })}\n`);
          else {
            for (const item of plan.remove) process.stdout.write(`would remove ${describe(item)}\n`);
            for (const item of plan.redact) process.stdout.write(`would remove ${describeRedaction(item)}\n`);
            for (const dir of plan.in_progress) process.stdout.write(`kept (in progress) ${dir}\n`);
            process.stdout.write(`${plan.remove.length} item(s) would be removed\n`);
            if (plan.redact.length > 0) process.stdout.write(`raw text would be removed from ${plan.redact.length} artifact(s)\n`);
          }
          return;
        }
        const result = await applyGc(workspace, plan, index);
        if (options.json) {
          process.stdout.write(`${JSON.stringify({ dry_run: false, policy, removed: result.removed, redacted: result.redacted, skipped: result.skipped, in_progress: plan.in_progress, unreadable: plan.unreadable })}\n`);
        } else {
          for (const item of result.removed) process.stdout.write(`removed ${describe(item)}\n`);
          for (const item of result.redacted) process.stdout.write(`removed ${describeRedaction(item)}\n`);
          for (const { item, reason } of result.skipped) process.stdout.write(`skipped ${item.path}: ${reason}\n`);
          process.stdout.write(`${result.removed.length} item(s) removed\n`);
          if (result.redacted.length > 0) process.stdout.write(`raw text removed from ${result.redacted.length} artifact(s)\n`);
        }
        for (const { run_dir, problem } of plan.unreadable) process.stderr.write(`trendflow: warning: left alone, unreadable: ${run_dir}: ${problem}\n`);
      } finally {
        index.close();
      }
    });
}
