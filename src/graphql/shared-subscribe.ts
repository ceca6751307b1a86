/**
 * graphql-ws's `subscribe`: graphql-js's own, except that an event is executed once per distinct
 * operation rather than once per subscriber. A thousand clients following one job with the same
 * query then cost one execution per step event, and each of them only the sending.
 *
 * Results are shared by the event object's identity (the event bus hands the same object to every
 * follower of a job, and the resolvers turn it into one payload: resolvers.ts), the parsed
 * document's identity (protection.ts parses each distinct query text once) and the operation name
 * and variables. That is sound because what an event resolves to does not depend on who asked:
 * the context holds the platform and the image URL prefix, the same for every subscriber, and
 * loaders that only batch. A subscriber's first event (the job as it was when it subscribed) is its
 * own object, so it is executed for that subscriber alone. Nothing outlives its event: the cache is
 * keyed weakly by it.
 */
import { createSourceEventStream, execute, type DocumentNode, type ExecutionArgs, type ExecutionResult } from "graphql";

type Result = ExecutionResult | Promise<ExecutionResult>;

const results = new WeakMap<object, WeakMap<DocumentNode, Map<string, Result>>>();

export async function sharedSubscribe(args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const stream = await createSourceEventStream(args);
  if (!isAsyncIterable(stream)) return stream;
  const source = stream[Symbol.asyncIterator]();
  // An iterator rather than an async generator, so that return() reaches the source at once
  // instead of waiting for the pending next() (graphql-js's own mapping does the same).
  const iterator: AsyncIterableIterator<ExecutionResult> = {
    [Symbol.asyncIterator]: () => iterator,
    async next() {
      const event = await source.next();
      return event.done ? event : { done: false, value: await executeOnce(event.value, args) };
    },
    async return() {
      await source.return?.();
      return { done: true, value: undefined };
    },
    async throw(error: unknown) {
      await source.return?.();
      throw error;
    },
  };
  return iterator;
}

function executeOnce(event: unknown, args: ExecutionArgs): Result {
  if (typeof event !== "object" || event === null) return execute({ ...args, rootValue: event });
  let byDocument = results.get(event);
  if (!byDocument) results.set(event, (byDocument = new WeakMap()));
  let byOperation = byDocument.get(args.document);
  if (!byOperation) byDocument.set(args.document, (byOperation = new Map()));
  const key = JSON.stringify([args.operationName ?? null, args.variableValues ?? null]);
  let result = byOperation.get(key);
  if (!result) byOperation.set(key, (result = execute({ ...args, rootValue: event })));
  return result;
}

export function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof (value as AsyncIterable<unknown> | null)?.[Symbol.asyncIterator] === "function";
}
