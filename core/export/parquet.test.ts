/**
 * dataset.parquet's writer: rows over several row groups read back with hyparquet exactly (NaN stays NaN, None
 * stays null, float32 values bit for bit); zero rows give a valid empty table; abort leaves nothing.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../../test/helpers/tmp.js';
import { FEATURE_COLUMNS, FEATURE_SCHEMA_VERSION, TARGET_NAMES } from '../predict/feature-spec.js';
import { PARQUET_COLUMN_NAMES, PARQUET_ROW_GROUP, type ParquetRow, ParquetRowWriter } from './parquet.js';

const tmp = useTempDirs('export-parquet-');

function syntheticRow(i: number): ParquetRow {
  const F = FEATURE_COLUMNS.length;
  return {
    video_id: `video-${i % 50}`,
    run_id: `run-${i}`,
    platform_id: 'youtube',
    run_path: `runs/youtube/video-${i % 50}/run-${i}`,
    row_complete: i % 4 !== 0,
    age_bucket: i % 3 === 0 ? null : 'lt_24h',
    channel_id: i % 2 === 0 ? null : `UC${i % 7}`,
    published_at: i % 5 === 0 ? null : '2024-03-01T00:00:00.000Z',
    snapshot1_collected_at: '2024-03-03T12:00:00.000Z',
    features: Float32Array.from({ length: F }, (_, f) => ((i + f) % 9 === 0 ? Number.NaN : (i * F + f) / 3)),
    targets: Float32Array.from(TARGET_NAMES, (_, t) => (t === i % 6 ? Number.NaN : Math.log1p(i + t))),
    targetMasks: TARGET_NAMES.map((_, t) => t !== i % 6),
  };
}

async function readBack(file: string) {
  const buffer = await asyncBufferFromFile(file);
  const metadata = await parquetMetadataAsync(buffer);
  const rows = (await parquetReadObjects({ file: buffer })) as Record<string, unknown>[];
  return { metadata, rows };
}

describe('ParquetRowWriter', () => {
  it('writes rows over several row groups that read back exactly (NaN kept, None as null)', async () => {
    const dir = await tmp();
    const file = path.join(dir, 'dataset.parquet');
    const count = 2 * PARQUET_ROW_GROUP + 345;
    const writer = ParquetRowWriter.create(file);
    for (let i = 0; i < count; i++) await writer.append(syntheticRow(i));
    await writer.finish();
    expect(await fs.readdir(dir)).toEqual(['dataset.parquet']);

    const { metadata, rows } = await readBack(file);
    expect(metadata.row_groups.map((g) => Number(g.num_rows))).toEqual([PARQUET_ROW_GROUP, PARQUET_ROW_GROUP, 345]);
    expect(metadata.key_value_metadata).toEqual([{ key: 'feature_schema_version', value: FEATURE_SCHEMA_VERSION }]);
    const schema = parquetSchema(metadata).children.map((c) => [c.element.name, c.element.type, c.element.repetition_type]);
    expect(schema.map(([name]) => name)).toEqual(PARQUET_COLUMN_NAMES);
    expect(schema.find(([name]) => name === 'channel_id')).toEqual(['channel_id', 'BYTE_ARRAY', 'OPTIONAL']);
    expect(schema.find(([name]) => name === FEATURE_COLUMNS[0]!.name)).toEqual([FEATURE_COLUMNS[0]!.name, 'FLOAT', 'REQUIRED']);
    expect(rows).toHaveLength(count);
    for (const i of [0, 1, 999, 1000, 1001, 2344]) {
      const expected = syntheticRow(i);
      const row = rows[i]!;
      expect(row).toMatchObject({ video_id: expected.video_id, run_id: expected.run_id, run_path: expected.run_path, row_complete: expected.row_complete });
      expect([row.age_bucket, row.channel_id, row.published_at]).toEqual([expected.age_bucket, expected.channel_id, expected.published_at]);
      // float32 values exactly (hyparquet widens them to doubles), NaN where X has NaN
      expect(FEATURE_COLUMNS.map((c) => row[c.name])).toEqual(Array.from(expected.features));
      expect(TARGET_NAMES.map((n) => row[n])).toEqual(Array.from(expected.targets));
      expect(TARGET_NAMES.map((n) => row[`${n}_present`])).toEqual(expected.targetMasks);
    }
  });

  it('zero rows give a valid empty table with every column', async () => {
    const file = path.join(await tmp(), 'empty.parquet');
    const writer = ParquetRowWriter.create(file);
    await writer.finish();
    const { metadata, rows } = await readBack(file);
    expect(rows).toEqual([]);
    expect(Number(metadata.num_rows)).toBe(0);
    expect(parquetSchema(metadata).children.map((c) => c.element.name)).toEqual(PARQUET_COLUMN_NAMES);
  });

  it('abort removes the temp file and writes nothing', async () => {
    const dir = await tmp();
    const writer = ParquetRowWriter.create(path.join(dir, 'dataset.parquet'));
    await writer.append(syntheticRow(1));
    await writer.abort();
    expect(await fs.readdir(dir)).toEqual([]);
  });
});
