// @ts-check
/**
 * The ingest benchmark (bench/ingest.mjs) over the compiled dist/, writing its section of docs/BENCHMARKS.md.
 * `npm run bench` compiles core/ (and the benchmark helpers), then runs this, bench/clip.mjs and bench/faces.mjs.
 *
 *   node bench/run.mjs [--reps N] [--diag-reps N] [--retries N] [--quiet-wait S] [--clip FILE] [--keep] [--no-write] [--json FILE]
 *
 * --reps N       interleaved baseline/ingest pairs (default 5, at least 3)
 * --diag-reps N  repetitions of the diagnostics (default 3; 0 skips them)
 * --retries N    measurements that may be discarded and repeated because other processes competed for the
 *                CPUs during them (default 3, in all)
 * --quiet-wait S before each measurement, wait up to S seconds for the other processes on the machine to leave
 *                the CPUs idle (default 0; for shared machines)
 * --clip FILE    use this video instead of generating the 1280x720 30 fps 40 s clip
 * --keep         keep the temporary folder (the generated clip) and print its path
 * --no-write     print the results only; leave docs/BENCHMARKS.md alone
 * --json FILE    also write the raw results as JSON
 */
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { breakdown, ingestMarkdown, runIngestBench } from './ingest.mjs';
import { fmt, fmtMiB, gnuTimePath, machineInfo, writeSection } from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DOC = path.join(root, 'docs', 'BENCHMARKS.md');
const HEADER = `# Benchmarks

Performance is reported as ratios measured in one run on one machine (DESIGN.md §12), by \`npm run bench\`
(scripts in \`bench/\`, run over the compiled \`dist/\`). Sections between \`bench:…\` markers are rewritten by each run;
text outside them is kept.`;

const { values } = parseArgs({
  options: {
    reps: { type: 'string', default: '5' },
    'diag-reps': { type: 'string', default: '3' },
    'quiet-wait': { type: 'string', default: '0' },
    retries: { type: 'string', default: '3' },
    clip: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
    json: { type: 'string' },
  },
  allowPositionals: false,
});

const reps = Number(values.reps);
const diagReps = Number(values['diag-reps']);
if (!Number.isInteger(reps) || reps < 3) usage('--reps must be an integer ≥ 3');
if (!Number.isInteger(diagReps) || diagReps < 0) usage('--diag-reps must be an integer ≥ 0');
const quietWait = Number(values['quiet-wait']);
if (!Number.isFinite(quietWait) || quietWait < 0) usage('--quiet-wait must be a number of seconds ≥ 0');
const retries = Number(values.retries);
if (!Number.isInteger(retries) || retries < 0) usage('--retries must be an integer ≥ 0');
if (!existsSync(path.join(root, 'dist', 'core', 'segmenter', 'index.js'))) {
  console.error('bench: dist/ is not built: run `npx tsc -p tsconfig.core.json` (`npm run bench` does it first)');
  process.exit(2);
}

const log = (/** @type {string} */ line) => console.error(`bench: ${line}`);
const machine = machineInfo();
log(`${machine.nproc} CPUs, ${machine.cpu_model}, Node ${machine.node}${gnuTimePath() ? '' : ' (no GNU /usr/bin/time: peak RSS of ffmpeg not measured)'}`);
const load = os.loadavg()[0] ?? 0;
if (load > machine.nproc / 2) log(`warning: load average ${load.toFixed(2)} on ${machine.nproc} CPUs: other work will inflate the wall times`);
const t0 = performance.now();
let result;
try {
  result = await runIngestBench({ reps, diagReps, quietWait, retries, ...(values.clip ? { clip: values.clip } : {}), keep: values.keep, log });
} catch (error) {
  console.error(`bench: failed: ${/** @type {Error} */ (error)?.stack ?? error}`);
  process.exit(1);
}
const total = (performance.now() - t0) / 1000;

const s = result.stats;
const out = [];
out.push('');
out.push(`Ingest benchmark (${result.reps} reps, ${machine.nproc} CPUs, ${result.ffmpeg.banner.split(' Copyright')[0]}, Node ${machine.node}), ${fmt(total, 0)} s in all`);
out.push(`  baseline  ffmpeg -i FILE -f null -   median ${fmt(s.baseline?.median_s)} s  min ${fmt(s.baseline?.min_s)} s  CPU ${fmt(s.baseline?.cpu_median_s)} s  RSS ${fmtMiB(s.baseline?.maxrss_kb)}`);
out.push(
  `  ingest    segmentVideo               median ${fmt(s.ingest?.median_s)} s  min ${fmt(s.ingest?.min_s)} s  CPU ${fmt(s.ingest?.cpu_median_s)} s  RSS Node ${fmtMiB(s.ingest?.node_maxrss_kb)} / largest ${fmtMiB(s.ingest?.maxrss_kb)}`,
);
out.push(
  `  ratio     ${fmt(result.ratio.median)} (median)  ${fmt(result.ratio.min)} (min/min)  ${fmt(result.ratio.paired_median)} (per-rep median)  ${fmt(result.ratio.cpu_median)} (CPU time)  ` +
    `target ≤ ${result.ratio.target}: ${!result.reliable ? 'undecided (machine busy)' : result.ratio.median <= result.ratio.target ? 'met' : 'NOT met'}`,
);
if (!result.reliable) {
  out.push(`  warning   other processes kept up to ${fmt(result.busy_elsewhere_max, 1)} CPUs busy during measured runs: wall times are unreliable (try --quiet-wait 60 --retries 20)`);
}
out.push(`  frames    ${result.segmenter.frame_count} stored of ${result.segmenter.analysis_frame_count} (${result.segmenter.analysis_fps} fps), ${JSON.stringify(result.segmenter.frame_shape)}`);
if (result.diag_reps > 0) {
  out.push('  where the time goes (differences of medians):');
  out.push('     wall s   CPU s');
  for (const b of breakdown(result)) out.push(`    ${fmt(b.seconds).padStart(7)} ${fmt(b.cpu).padStart(7)}  ${b.step}`);
}
console.log(out.join('\n'));

if (values.json) await fs.writeFile(values.json, `${JSON.stringify({ machine, total_s: total, ...result }, null, 1)}\n`);
if (!values['no-write']) {
  await writeSection(DOC, 'ingest', ingestMarkdown(result, machine), HEADER);
  console.log(`\nwrote ${path.relative(process.cwd(), DOC) || DOC}`);
}

/** @param {string} message @returns {never} */
function usage(message) {
  console.error(`bench: ${message}`);
  process.exit(2);
}
