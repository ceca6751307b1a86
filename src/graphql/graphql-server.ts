/**
 * The GraphQL endpoint on the HTTP server: Apollo Server 5 answers queries and mutations on
 * POST /graphql (with CSRF prevention and a request-size limit), and graphql-ws serves
 * subscriptions on the same path and port. Both run the one executable schema built from
 * schema.graphql and src/graphql/resolvers.ts.
 *
 * Lifecycle: `startGraphQL()` mounts both on a listening server; `stop()` closes the WebSocket
 * endpoint (subscribers get a close frame) and drains Apollo's in-flight requests.
 */
import { readFileSync } from "node:fs";
import type http from "node:http";
import { ApolloServer } from "@apollo/server";
import { expressMiddleware } from "@as-integrations/express5";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { makeExecutableSchema } from "@graphql-tools/schema";
import express, { type Express } from "express";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";
import type { JobPlatform } from "../jobs/job-platform.ts";
import type { Logger } from "../log.ts";
import { createContext, type GraphQLContext } from "./context.ts";
import { formatError } from "./errors.ts";
import { resolvers } from "./resolvers.ts";

const SCHEMA_FILE = new URL("../../schema.graphql", import.meta.url);

/** Largest request body accepted on POST /graphql. */
const MAX_BODY = "100kb";

export interface GraphQLOptions {
  app: Express;
  server: http.Server;
  platform: JobPlatform;
  log: Logger;
  /** Prefix of image URLs (ATELIER_PUBLIC_URL), or "" for URLs relative to the API. */
  imageUrlBase: string;
  /** Show internal errors' messages to clients (NODE_ENV=development). */
  development: boolean;
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

  const sockets = new WebSocketServer({ server: options.server, path: "/graphql" });
  const subscriptions = useServer<Record<string, unknown>, { context?: GraphQLContext }>(
    { schema, context, onError: (_context, _id, _payload, errors) => void options.log.warn("subscription error", { errors: errors.map((e) => e.message) }) },
    sockets,
  );

  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    formatError: formatError(options.log, options.development),
    includeStacktraceInErrorResponses: options.development,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer: options.server }),
      { serverWillStart: async () => ({ drainServer: () => subscriptions.dispose() as Promise<void> }) },
    ],
  });
  await apollo.start();
  options.app.use("/graphql", express.json({ limit: MAX_BODY }), expressMiddleware(apollo, { context: async () => context() }));

  let stopping: Promise<void> | undefined;
  return { stop: () => (stopping ??= apollo.stop()) };
}
