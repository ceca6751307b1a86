/**
 * A query's answer for a view: fetched when the view shows and again when the variables change
 * (`skip` waits, e.g. for something to search for). An answer that arrives after the variables
 * changed again is dropped.
 */
import { useEffect, useRef, useState } from "react";
import type { TypedDocumentString } from "../generated/graphql.ts";
import { ApiError, request } from "./graphql-client.ts";

export interface QueryState<TResult> {
  data: TResult | undefined;
  /** The latest failure; cleared by the next answer. */
  error: ApiError | undefined;
}

export function useQuery<TResult, TVariables>(document: TypedDocumentString<TResult, TVariables>, variables: TVariables, { skip = false } = {}): QueryState<TResult> {
  const [data, setData] = useState<TResult>();
  const [error, setError] = useState<ApiError>();
  const key = JSON.stringify(variables);
  const latest = useRef(0);

  useEffect(() => {
    if (skip) return;
    const call = ++latest.current;
    request(document, JSON.parse(key) as TVariables).then(
      (result) => {
        if (call !== latest.current) return;
        setData(result);
        setError(undefined);
      },
      (failure: unknown) => {
        if (call === latest.current) setError(failure instanceof ApiError ? failure : new ApiError([{ message: String(failure) }]));
      },
    );
  }, [document, key, skip]);

  return { data, error };
}
