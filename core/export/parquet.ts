/**
 * `dataset.parquet`: the rows of dataset.npz as one flat table, for pandas / Arrow / DuckDB users. Written with
 * hyparquet-writer (pure JavaScript, MIT, one dependency: hyparquet) row group by row group, so memory is one
 * group of rows, like dataset.npz's streaming writer. See core/export/README.md for the columns.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { type ColumnSource, fileWriter, ParquetWriter, schemaFromColumnData } from 'hyparquet-writer';
import { TrendflowError } from '../contracts/errors.js';
import { syncDirectory } from '../store/atomic.js';
import { FEATURE_COLUMNS, FEATURE_SCHEMA_VERSION, TARGET_NAMES } from '../predict/feature-spec.js';

/** Rows per row group: 1000 × ~140 columns stays a few hundred KiB in memory, and readers can skip groups. */
export const PARQUET_ROW_GROUP = 1000;

/** One run's row, the same values dataset.npz gets. */
export interface ParquetRow {
  video_id: string;
  run_id: string;
  platform_id: string;
  run_path: string;
  row_complete: boolean;
  age_bucket: string | null;
  channel_id: string | null;
  published_at: string | null;
  snapshot1_collected_at: string | null;
  features: Float32Array;
  targets: Float32Array;
  targetMasks: boolean[];
}

type Kind = 'STRING' | 'BOOLEAN' | 'FLOAT';

/** The table's columns: name, Parquet type, nullable (only the "when known" strings), and how a row fills it. */
const COLUMNS: { name: string; type: Kind; nullable: boolean; value: (row: ParquetRow) => string | boolean | number | null }[] = [
  ...(['video_id', 'run_id', 'platform_id', 'run_path'] as const).map((key) => ({ name: key, type: 'STRING' as const, nullable: false, value: (row: ParquetRow) => row[key] })),
  { name: 'row_complete', type: 'BOOLEAN', nullable: false, value: (row) => row.row_complete },
  ...(['age_bucket', 'channel_id', 'published_at', 'snapshot1_collected_at'] as const).map((key) => ({ name: key, type: 'STRING' as const, nullable: true, value: (row: ParquetRow) => row[key] })),
  // NaN stays NaN (legal in Parquet FLOAT, skipped by the writer's statistics): the columns equal X exactly
  ...FEATURE_COLUMNS.map((column, i) => ({ name: column.name, type: 'FLOAT' as const, nullable: false, value: (row: ParquetRow) => row.features[i]! })),
  ...TARGET_NAMES.map((name, i) => ({ name, type: 'FLOAT' as const, nullable: false, value: (row: ParquetRow) => row.targets[i]! })),
  ...TARGET_NAMES.map((name, i) => ({ name: `${name}_present`, type: 'BOOLEAN' as const, nullable: false, value: (row: ParquetRow) => row.targetMasks[i]! })),
];

export const PARQUET_COLUMN_NAMES: readonly string[] = COLUMNS.map((c) => c.name);

function columnData(rows: readonly ParquetRow[]): ColumnSource[] {
  return COLUMNS.map((c) => ({
    name: c.name,
    type: c.type,
    nullable: c.nullable,
    data: c.type === 'FLOAT' ? Float32Array.from(rows, (row) => c.value(row) as number) : rows.map(c.value),
  }));
}

/**
 * Appends rows in groups of PARQUET_ROW_GROUP and writes the footer at finish. The file is written under a temp
 * name beside the target and renamed at finish (readers never see a partial file); abort, or a failure, removes it.
 */
export class ParquetRowWriter {
  private pending: ParquetRow[] = [];
  private closed = false;

  private constructor(
    readonly file: string,
    private readonly temp: string,
    private readonly writer: ParquetWriter,
  ) {}

  static create(file: string): ParquetRowWriter {
    const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      const writer = new ParquetWriter({
        writer: fileWriter(temp),
        schema: schemaFromColumnData({ columnData: columnData([]) }),
        kvMetadata: [{ key: 'feature_schema_version', value: FEATURE_SCHEMA_VERSION }],
        createdBy: 'trendflow export (hyparquet-writer)',
      });
      return new ParquetRowWriter(file, temp, writer);
    } catch (error) {
      throw new TrendflowError('store_io_failed', `cannot create ${path.basename(file)}: ${(error as Error).message}`, { path: file, cause: error });
    }
  }

  async append(row: ParquetRow): Promise<void> {
    this.pending.push(row);
    if (this.pending.length >= PARQUET_ROW_GROUP) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const rows = this.pending;
    this.pending = [];
    await this.guard(() => this.writer.write({ columnData: columnData(rows), rowGroupSize: rows.length }));
  }

  async finish(): Promise<void> {
    await this.flush();
    await this.guard(async () => {
      await this.writer.finish();
      // hyparquet-writer's file writer appends without fsync; sync before the rename makes the file visible
      const handle = await fs.open(this.temp, 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.rename(this.temp, this.file);
      await syncDirectory(path.dirname(this.file));
    });
    this.closed = true;
  }

  /** Removes the temp file; nothing is written. */
  async abort(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await fs.rm(this.temp, { force: true });
  }

  private async guard(step: () => unknown): Promise<void> {
    try {
      await step();
    } catch (error) {
      await this.abort();
      throw new TrendflowError('store_io_failed', `cannot write ${path.basename(this.file)}: ${(error as Error).message}`, { path: this.file, cause: error });
    }
  }
}
