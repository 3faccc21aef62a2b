import { useCallback, useEffect, useState } from 'react';
import type { ApiMethod, ApiParams, ApiResult } from '../../core/api/contract.js';
import { ApiCallError } from './api/client.js';
import { useApp } from './store.js';

export interface Loaded<T> {
  data: T | null;
  error: ApiCallError | null;
  loading: boolean;
  reload(): void;
}

/**
 * One API call for a view, redone when its parameters change or the store changes (`runs.changed`); null params
 * skip the call. A response that arrives after the parameters changed is dropped.
 */
export function useApi<M extends ApiMethod>(method: M, params: ApiParams<M> | null): Loaded<ApiResult<M>> {
  const transport = useApp((s) => s.transport);
  const storeVersion = useApp((s) => s.storeVersion);
  const key = params === null ? null : JSON.stringify(params);
  const [state, setState] = useState<{ key: string | null; data: ApiResult<M> | null; error: ApiCallError | null; loading: boolean }>({
    key: null,
    data: null,
    error: null,
    loading: params !== null,
  });
  const [nonce, setNonce] = useState(0);

  useEffect(() => {
    if (!transport || key === null) return;
    let current = true;
    setState((s) => ({ ...s, key, loading: true, error: null, data: s.key === key ? s.data : null }));
    transport
      .call(method, JSON.parse(key) as ApiParams<M>)
      .then((data) => current && setState({ key, data, error: null, loading: false }))
      .catch((error: unknown) => current && setState({ key, data: null, error: error instanceof ApiCallError ? error : new ApiCallError('internal_error', String(error)), loading: false }));
    return () => {
      current = false;
    };
  }, [transport, method, key, storeVersion, nonce]);

  const reload = useCallback(() => setNonce((n) => n + 1), []);
  return { data: state.key === key ? state.data : null, error: state.key === key ? state.error : null, loading: state.loading || state.key !== key, reload };
}
