/**
 * `trendflow bench calibrate`: measures the checklist (memory and time per frame of each model component) on this
 * machine and writes it into the models dir, where the batch planner finds it (core/runtime/planner).
 */
import os from 'node:os';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import * as ort from 'onnxruntime-node';
import { TrendflowError } from '../../contracts/errors.js';
import { calibrateCoreClip } from '../../providers/core_clip/calibrate.js';
import { DEFAULT_CORE_CLIP_CONFIG, setupCoreClip } from '../../providers/core_clip/setup.js';
import { OnnxSessionRegistry } from '../../runtime/onnx/sessions.js';
import { CHECKLIST_FILE, CHECKLIST_FORMAT, mergeChecklist, readChecklistFile, writeChecklist, type Checklist } from '../../runtime/planner/checklist.js';
import { probeMemory } from '../../runtime/planner/planner.js';
import { loadRegistry, resolveModelsDir } from '../../runtime/registry/index.js';

/** Components that have a calibration; the others run no model. */
const CALIBRATED = ['core_clip'] as const;

interface CalibrateCliOptions {
  components: string[];
  device: 'cpu' | 'cuda';
  modelsDir?: string;
  registry?: string;
  batchSizes?: number[];
  imageModel?: string;
  textModel?: string;
  out?: string;
  json?: boolean;
}

function parseList(value: string): string[] {
  return value.split(',').map((part) => part.trim()).filter(Boolean);
}

function parseBatchSizes(value: string): number[] {
  const sizes = parseList(value).map(Number);
  if (sizes.length < 2 || sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 1024)) throw new InvalidArgumentError('two or more integers in 1…1024, e.g. 1,2,4,8');
  return sizes;
}

export function registerBenchCommand(program: Command): void {
  const bench = program.command('bench').description('measurements for the batch planner');
  bench
    .command('calibrate')
    .description(`measure memory and time per frame of model components on this machine; writes <models-dir>/${CHECKLIST_FILE}`)
    .option('--components <list>', `components to measure (${CALIBRATED.join(', ')})`, parseList, [...CALIBRATED])
    .option('--device <device>', 'cpu or cuda', (value: string) => {
      if (value !== 'cpu' && value !== 'cuda') throw new InvalidArgumentError('cpu or cuda');
      return value;
    }, 'cpu')
    .option('--models-dir <dir>', 'models folder (default: $TRENDFLOW_MODELS_DIR, else the per-user data folder + trendflow/models)')
    .option('--registry <file>', 'a registry file to use instead of the built-in models/registry.json')
    .option('--batch-sizes <list>', 'batch sizes to measure, ascending (default 1,2,4,8,16,32)', parseBatchSizes)
    .option('--image-model <id>', `core_clip image model id (default ${DEFAULT_CORE_CLIP_CONFIG.image_model})`)
    .option('--text-model <id>', `core_clip text model id (default ${DEFAULT_CORE_CLIP_CONFIG.text_model})`)
    .option('--out <file>', `write the checklist here instead of <models-dir>/${CHECKLIST_FILE}`)
    .option('--json', 'print the checklist on stdout')
    .action(async (options: CalibrateCliOptions) => {
      const unknown = options.components.filter((c) => !(CALIBRATED as readonly string[]).includes(c));
      if (unknown.length > 0) throw new TrendflowError('invalid_argument', `no calibration for ${unknown.join(', ')} (calibrated: ${CALIBRATED.join(', ')})`);
      const modelsDir = resolveModelsDir(options.modelsDir === undefined ? {} : { modelsDir: options.modelsDir });
      const registry = await loadRegistry({ modelsDir, ...(options.registry === undefined ? {} : { registryFile: options.registry }) });
      const out = path.resolve(options.out ?? path.join(modelsDir, CHECKLIST_FILE));
      const rssBeforeLoad = process.resourceUsage().maxRSS * 1024;
      const config = {
        ...DEFAULT_CORE_CLIP_CONFIG,
        device: options.device,
        ...(options.imageModel ? { image_model: options.imageModel } : {}),
        ...(options.textModel ? { text_model: options.textModel } : {}),
      };
      const sessions = new OnnxSessionRegistry();
      const setup = await setupCoreClip(config, { registry, modelsDir, sessions });
      let checklist: Checklist;
      try {
        process.stderr.write(`calibrating core_clip on ${options.device} (${config.image_model})…\n`);
        const entry = await calibrateCoreClip(config, setup, { rssBeforeLoad, ...(options.batchSizes ? { batchSizes: options.batchSizes } : {}) });
        const memory = await probeMemory();
        checklist = mergeChecklist(
          await readChecklistFile(out),
          {
            format: CHECKLIST_FORMAT,
            measured_at: new Date().toISOString(),
            machine: {
              cpu: os.cpus()[0]?.model ?? 'unknown',
              cores: os.availableParallelism(),
              ram_bytes: memory.ram_total_bytes,
              gpu: memory.gpus?.map((g) => g.name).join(', ') || null,
              onnxruntime: ort.env.versions.common,
            },
          },
          [entry],
        );
        await writeChecklist(out, checklist);
      } finally {
        await setup.close();
        await sessions.releaseAll();
      }
      if (options.json) process.stdout.write(`${JSON.stringify(checklist, null, 2)}\n`);
      else {
        for (const entry of checklist.entries.filter((e) => e.origin === 'measured' && e.device === options.device)) {
          const rows = entry.measurements.map((m) => `  batch ${String(m.batch_size).padStart(3)}: ${m.ms_per_frame.toFixed(1)} ms/frame`).join('\n');
          process.stdout.write(
            `${entry.component} (${entry.device}): model ${Math.round(entry.model_bytes / 2 ** 20)} MiB, ` +
              `${(entry.bytes_per_frame / 2 ** 20).toFixed(1)} MiB/frame, useful batch ≤ ${entry.max_batch_size}\n${rows}\n`,
          );
        }
        process.stdout.write(`wrote ${out}\n`);
      }
    });
}
