import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { TrendflowError } from '../contracts/errors.js';

export interface FileDigest {
  /** Lower-case hex sha256 of the file's bytes. */
  sha256: string;
  bytes: number;
}

/**
 * sha256 and size of a file, read as a stream so videos of any size hash in constant memory. Size is counted
 * from the bytes hashed (not a separate stat) so the two always describe the same content.
 */
export async function hashFile(filePath: string): Promise<FileDigest> {
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    for await (const chunk of createReadStream(filePath, { highWaterMark: 1024 * 1024 })) {
      const buffer = chunk as Buffer;
      hash.update(buffer);
      bytes += buffer.length;
    }
  } catch (error) {
    throw new TrendflowError('file_read_failed', `cannot read file: ${(error as Error).message}`, {
      path: filePath,
      cause: error,
    });
  }
  return { sha256: hash.digest('hex'), bytes };
}
