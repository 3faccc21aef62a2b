import { type ErrorCode, TrendflowError } from '../contracts/errors.js';

/** The file and member an error is about; every npz error carries them so the user sees which input failed. */
export interface Where {
  path?: string;
  key?: string;
}

export function npzError(code: ErrorCode, message: string, where: Where, cause?: unknown): TrendflowError {
  return new TrendflowError(code, message, {
    ...(where.path === undefined ? {} : { path: where.path }),
    ...(where.key === undefined ? {} : { key: where.key }),
    ...(cause === undefined ? {} : { cause }),
  });
}
