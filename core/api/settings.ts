/**
 * Workstation settings (DESIGN.md §11: models dir, runtime CPU/CUDA/Triton URL, batch sizes): one JSON file in
 * the workspace (the desktop app's user-data folder, or the CLI workspace), never in result_store. Read and
 * validated on every call so that an edit by hand is seen; written atomically. A file that is not valid is
 * `invalid_argument` naming the file, never silently replaced by defaults.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { TrendflowError } from '../contracts/errors.js';
import { writeFileAtomic } from '../store/atomic.js';
import type { SettingsState, WorkstationSettings } from './contract.js';
import { checkParams } from './params.js';

export const SETTINGS_FILE_NAME = 'settings.json';

export const DEFAULT_SETTINGS: WorkstationSettings = {
  models_dir: null,
  runtime: 'inprocess',
  device: 'cpu',
  triton_url: null,
  batch_sizes: {},
  redis_url: null,
};

const FIELDS = Object.keys(DEFAULT_SETTINGS) as Array<keyof WorkstationSettings>;

function parse(raw: unknown, file: string): WorkstationSettings {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new TrendflowError('invalid_argument', 'settings must be a JSON object', { path: file });
  // redis_url came after the first settings files: one saved before it has none, which means none
  const value = { redis_url: null, ...raw };
  const missing = FIELDS.filter((field) => !(field in value));
  if (missing.length > 0) throw new TrendflowError('invalid_argument', `settings lack ${missing.join(', ')}`, { path: file });
  try {
    // the same schema as settings.update's patch: every field present
    checkParams('settings.update', { patch: value });
  } catch (error) {
    throw new TrendflowError('invalid_argument', `settings are not valid: ${(error as Error).message.replace(/^settings\.update: /, '')}`, { path: file });
  }
  return value as WorkstationSettings;
}

export class SettingsFile {
  constructor(readonly file: string) {}

  async read(): Promise<SettingsState> {
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return this.#state(structuredClone(DEFAULT_SETTINGS), false);
      throw new TrendflowError('file_read_failed', `cannot read settings: ${(error as Error).message}`, { path: this.file, cause: error });
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new TrendflowError('invalid_argument', `settings are not valid JSON: ${(error as Error).message}`, { path: this.file });
    }
    return this.#state(parse(value, this.file), true);
  }

  /** Merges a (validated) patch into the current settings and saves them. */
  async update(patch: Partial<WorkstationSettings>): Promise<SettingsState> {
    const current = (await this.read()).settings;
    const next: WorkstationSettings = { ...current, ...patch };
    if (next.runtime === 'triton' && next.triton_url === null) {
      throw new TrendflowError('invalid_argument', 'runtime triton needs a triton_url');
    }
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    await writeFileAtomic(this.file, `${JSON.stringify(next, null, 2)}\n`);
    return this.#state(next, true);
  }

  #state(settings: WorkstationSettings, saved: boolean): SettingsState {
    return { settings, defaults: structuredClone(DEFAULT_SETTINGS), file: this.file, saved };
  }
}
