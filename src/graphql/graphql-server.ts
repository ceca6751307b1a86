/**
 * The GraphQL endpoint on the HTTP server: Apollo Server 5 answers queries and mutations on
 * POST /graphql (with CSRF prevention and a request-size limit), and graphql-ws serves
 * subscriptions on the same path and port. Both run the one executable schema built from
 * schema.graphql and src/graphql/resolvers.ts, behind the same limits (protection.ts) and, when
 * ATELIER_API_KEYS is set, the same keys (api-keys.ts).
 *
 * Lifecycle: `startGraphQL()` mounts both on a listening server. `stop()` drains: it refuses new
 * subscriptions, completes the open ones (each client gets `complete`, not a cut socket), closes
 * the WebSocket endpoint, then drains Apollo's in-flight requests. The WebSockets must be done
 * first: Apollo's HTTP drain ends every connection that has no request in flight, upgraded
 * sockets included.
 */
import { readFileSync } from "node:fs";
import type http from "node:http";
import { setImmediate } from "node:timers/promises";
import { ApolloServer } from "@apollo/server";
import { expressMiddleware } from "@as-integrations/express5";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { makeExecutableSchema } from "@graphql-tools/schema";
import express, { type ErrorRequestHandler, type Express } from "express";
import { GraphQLError } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";
import type { AccessConfig } from "../config.ts";
import type { JobPlatform } from "../jobs/job-platform.ts";
import type { Logger } from "../log.ts";
import { apiKeyGuard } from "./api-keys.ts";
import { createContext, type GraphQLContext } from "./context.ts";
import { formatError, formatErrors } from "./errors.ts";
import { createProtection } from "./protection.ts";
import { resolvers } from "./resolvers.ts";
import { isAsyncIterable, sharedSubscribe } from "./shared-subscribe.ts";

const SCHEMA_FILE = new URL("../../schema.graphql", import.meta.url);

/** Largest request body accepted on POST /graphql, and largest WebSocket message. */
const MAX_BODY_BYTES = 100 * 1024;

export interface GraphQLOptions {
  app: Express;
  server: http.Server;
  platform: JobPlatform;
  log: Logger;
  /** Prefix of image URLs (ATELIER_PUBLIC_URL), or "" for URLs relative to the API. */
  imageUrlBase: string;
  /** Show internal errors' messages to clients (NODE_ENV=development). */
  development: boolean;
  /** API keys (ATELIER_API_KEYS) and whether queries need one (ATELIER_PRIVATE). */
  access: AccessConfig;
}

export interface GraphQLEndpoint {
  stop(): Promise<void>;
}

export function createSchema() {
  return makeExecutableSchema({ typeDefs: readFileSync(SCHEMA_FILE, "utf8"), resolvers: resolvers as never });
}

export async function startGraphQL(options: GraphQLOptions): Promise<GraphQLEndpoint> {
  const schema = createSchema();
  const context = () => createContext(options.platform, options.imageUrlBase);
  const protection = createProtection(schema, options.platform.limits.samples);
  const guard = apiKeyGuard(options.access);
  const streams = new OpenStreams();
  const format = formatError(options.log, options.development);
  let draining = false;

  const sockets = new WebSocketServer({ server: options.server, path: "/graphql", maxPayload: MAX_BODY_BYTES });
  const subscriptions = useServer(
    {
      schema,
      context,
      subscribe: sharedSubscribe,
      onConnect: guard && ((ctx) => guard.acceptsConnection(ctx.connectionParams)),
      onSubscribe: (ctx, _id, payload) => (draining ? [shuttingDown()] : protection.prepare(ctx, payload)),
      onOperation: (ctx, id, _payload, _args, result) => (isAsyncIterable(result) ? streams.track(ctx, id, result) : undefined),
      onComplete: (ctx, id) => streams.completed(ctx, id),
      onClose: (ctx) => streams.closed(ctx),
      onNext: (_ctx, _id, _payload, _args, result) => (result.errors ? { ...result, errors: formatErrors(format, result.errors) } : undefined),
      onError: (_ctx, _id, _payload, errors) => formatErrors(format, errors),
    },
    sockets,
  );

  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    formatError: format,
    includeStacktraceInErrorResponses: options.development,
    validationRules: protection.apollo.validationRules,
    parseOptions: protection.apollo.parseOptions,
    // Signals are runUntilSignal's (src/cli/run-until-signal.ts): on its own, Apollo would stop at
    // SIGTERM and send the process a second one, which makes it exit before the worker has drained.
    stopOnTerminationSignals: false,
    plugins: [ApolloServerPluginDrainHttpServer({ httpServer: options.server }), ...(guard ? [guard.plugin] : []), protection.apollo.plugin],
  });
  await apollo.start();
  options.app.use("/graphql", express.json({ limit: MAX_BODY_BYTES }), expressMiddleware(apollo, { context: async () => context() }), bodyRefused);

  const stop = async () => {
    draining = true;
    await streams.endAll();
    await subscriptions.dispose();
    await apollo.stop();
  };
  let stopping: Promise<void> | undefined;
  return { stop: () => (stopping ??= stop()) };
}

function shuttingDown(): GraphQLError {
  return new GraphQLError("The server is shutting down: subscribe again once it is back", { extensions: { code: "SERVICE_UNAVAILABLE" } });
}

/** express.json's refusals (a body too large, or not JSON), as JSON a GraphQL client can read rather than an HTML page. */
const bodyRefused: ErrorRequestHandler = (error: { type?: string; message?: string }, _request, response, next) => {
  if (error.type === "entity.too.large") {
    response.status(413).json({ errors: [{ message: `The request body is over ${MAX_BODY_BYTES / 1024}kb, the most POST /graphql accepts`, extensions: { code: "PAYLOAD_TOO_LARGE" } }] });
  } else if (error.type === "entity.parse.failed") {
    response.status(400).json({ errors: [{ message: `The request body is not JSON (${error.message}): send {"query": "…", "variables": {…}}`, extensions: { code: "BAD_REQUEST" } }] });
  } else next(error);
};

interface OpenStream {
  end(): void;
  /** Settles once graphql-ws is done with the stream (completed it, or its socket closed). */
  finished: Promise<void>;
  finish(): void;
}

/**
 * The subscription streams open on every socket, so that stop() can complete them. graphql-ws
 * streams a wrapper whose end() settles its pending next() at once; graphql-ws then sends the
 * client `complete`. (Returning the resolver's own generator would wait for its next event, which
 * a QUEUED job may not send for hours.)
 */
class OpenStreams {
  readonly #bySocket = new Map<object, Map<string, OpenStream>>();
  #ending = false;

  track<T>(socket: object, id: string, stream: AsyncIterable<T>): AsyncIterableIterator<T> {
    const { iterator, end } = endable(stream);
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    if (!this.#bySocket.has(socket)) this.#bySocket.set(socket, new Map());
    this.#bySocket.get(socket)!.set(id, { end, finished, finish });
    // One that started subscribing before the drain began ends as soon as it is open.
    if (this.#ending) end();
    return iterator;
  }

  /** graphql-ws's onComplete: it is about to send `complete` (or the client sent it). */
  completed(socket: object, id: string): void {
    const streams = this.#bySocket.get(socket);
    streams?.get(id)?.finish();
    streams?.delete(id);
    if (streams?.size === 0) this.#bySocket.delete(socket);
  }

  /** graphql-ws's onClose: nothing more goes out on the socket. */
  closed(socket: object): void {
    for (const stream of this.#bySocket.get(socket)?.values() ?? []) stream.finish();
    this.#bySocket.delete(socket);
  }

  /** Ends every stream and waits until graphql-ws has sent each client its `complete`. */
  async endAll(): Promise<void> {
    this.#ending = true;
    for (let open = this.#open(); open.length > 0; open = this.#open()) {
      for (const stream of open) stream.end();
      await Promise.all(open.map((stream) => stream.finished));
    }
    // graphql-ws sends `complete` right after onComplete returns: let those writes be queued
    // before the sockets' close frames.
    await setImmediate();
  }

  #open(): OpenStream[] {
    return [...this.#bySocket.values()].flatMap((streams) => [...streams.values()]);
  }
}

/**
 * `stream` as an iterator whose end(), or return() (graphql-ws calls it when the client completes
 * or the socket closes), settles a pending next() as done at once. The stream is then asked to
 * return too, which releases what it holds (its event-bus listener) once its pending next settles.
 */
function endable<T>(stream: AsyncIterable<T>): { iterator: AsyncIterableIterator<T>; end: () => void } {
  const source = stream[Symbol.asyncIterator]();
  const done: IteratorReturnResult<undefined> = { done: true, value: undefined };
  let isEnded = false;
  // The pending next()'s resolve (graphql-ws awaits one next() at a time), for end() to settle.
  // Not Promise.race with an "ended" promise: each race would leave a reaction on it until the end.
  let settlePending: ((result: IteratorResult<T>) => void) | undefined;
  const end = () => {
    if (isEnded) return;
    isEnded = true;
    settlePending?.(done);
    settlePending = undefined;
    source.return?.().catch(() => undefined);
  };
  const iterator: AsyncIterableIterator<T> = {
    next: () =>
      isEnded
        ? Promise.resolve(done)
        : new Promise<IteratorResult<T>>((resolve, reject) => {
            settlePending = resolve;
            source.next().then((result) => {
              settlePending = undefined;
              resolve(result);
            }, reject);
          }),
    return: () => {
      end();
      return Promise.resolve(done);
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return { iterator, end };
}
