/**
 * A list read page by page through a connection's cursor (`first`/`after` → `pageInfo.endCursor`):
 * the first page when the view shows, the next one on `loadMore()` (a button, or the end of the
 * list scrolling into view). `reload()` reads everything loaded so far again in one request, so a
 * list that changes (jobs that run) stays current without losing the pages already shown.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import type { TypedDocumentString } from "../generated/graphql.ts";
import { ApiError, request } from "./graphql-client.ts";

export interface Connection<TNode> {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  edges: { node: TNode }[];
}

export interface Pages<TNode> {
  nodes: TNode[];
  totalCount: number | undefined;
  hasMore: boolean;
  loading: boolean;
  error: ApiError | undefined;
  loadMore(): void;
  reload(): void;
}

export function usePages<TResult, TVariables extends { first: number; after?: string | null }, TNode>(
  document: TypedDocumentString<TResult, TVariables>,
  variables: Omit<TVariables, "first" | "after">,
  connectionOf: (result: TResult) => Connection<TNode>,
  pageSize: number,
): Pages<TNode> {
  const [page, setPage] = useState<{ nodes: TNode[]; totalCount: number; hasMore: boolean; endCursor: string | null }>();
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<ApiError>();
  const key = JSON.stringify(variables);
  // Answers for other variables, or overtaken by a later read, are dropped.
  const generation = useRef(0);
  const busy = useRef(false);
  const connection = useRef(connectionOf);
  connection.current = connectionOf;

  const read = useCallback(
    async (first: number, after: string | null, append: boolean) => {
      const call = ++generation.current;
      busy.current = true;
      setLoading(true);
      try {
        const result = connection.current(await request(document, { ...JSON.parse(key), first, after } as TVariables));
        if (call !== generation.current) return;
        const nodes = result.edges.map((edge) => edge.node);
        setPage((previous) => ({
          nodes: append && previous ? [...previous.nodes, ...nodes] : nodes,
          totalCount: result.totalCount,
          hasMore: result.pageInfo.hasNextPage,
          endCursor: result.pageInfo.endCursor,
        }));
        setError(undefined);
      } catch (failure) {
        if (call === generation.current) setError(failure instanceof ApiError ? failure : new ApiError([{ message: String(failure) }]));
      } finally {
        if (call === generation.current) {
          busy.current = false;
          setLoading(false);
        }
      }
    },
    [document, key],
  );

  useEffect(() => {
    setPage(undefined);
    void read(pageSize, null, false);
  }, [read, pageSize]);

  const loadMore = useCallback(() => {
    if (busy.current || !page?.hasMore) return;
    void read(pageSize, page.endCursor, true);
  }, [read, page, pageSize]);

  const reload = useCallback(() => {
    // At most 100 per request (the API's page limit); a longer list reloads its first 100.
    void read(Math.min(100, Math.max(pageSize, page?.nodes.length ?? 0)), null, false);
  }, [read, page, pageSize]);

  return { nodes: page?.nodes ?? [], totalCount: page?.totalCount, hasMore: page?.hasMore ?? false, loading, error, loadMore, reload };
}
