/** What a promise that must fail with a TrendflowError failed with; anything else fails the test. */
import { isTrendflowError, type ErrorCode, type TrendflowError } from '../../core/contracts/errors.js';

export async function failureOf(promise: Promise<unknown>): Promise<TrendflowError> {
  try {
    await promise;
  } catch (error) {
    if (isTrendflowError(error)) return error;
    throw error;
  }
  throw new Error('expected a TrendflowError');
}

export async function codeOf(promise: Promise<unknown>): Promise<ErrorCode> {
  return (await failureOf(promise)).code;
}
