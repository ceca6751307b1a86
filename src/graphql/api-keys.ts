/**
 * Optional API keys (ATELIER_API_KEYS). With keys set, mutations and subscriptions need one, and
 * queries too when ATELIER_PRIVATE=1; without keys the API is open. Over HTTP the key comes as
 * `Authorization: Bearer <key>`, and an operation that needs one and lacks it is refused with
 * 401 UNAUTHENTICATED once Apollo knows what kind of operation it is, before anything runs. Over
 * WebSocket it comes in the connection_init payload (`authorization`), and a socket without a good
 * one is closed with 4403 Forbidden before it can subscribe.
 *
 * Keys are compared as SHA-256 digests with timingSafeEqual: equal lengths, constant time, so the
 * time an answer takes tells a client nothing about how close its guess was.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { HeaderMap, type ApolloServerPlugin } from "@apollo/server";
import { GraphQLError, type OperationTypeNode } from "graphql";
import type { AccessConfig } from "../config.ts";
import type { GraphQLContext } from "./context.ts";

export interface ApiKeyGuard {
  /** Refuses HTTP operations that need a key and do not carry one. */
  plugin: ApolloServerPlugin<GraphQLContext>;
  /** graphql-ws onConnect: whether a socket's connection_init payload carries a key. */
  acceptsConnection(connectionParams: Readonly<Record<string, unknown>> | undefined): boolean;
}

/** The guard for these settings, or undefined when no key is set and the API is open. */
export function apiKeyGuard(access: AccessConfig): ApiKeyGuard | undefined {
  if (access.apiKeys.length === 0) return undefined;
  const carriesKey = keyChecker(access.apiKeys);
  return {
    plugin: {
      async requestDidStart() {
        return {
          async didResolveOperation({ operation, request }) {
            // Without one operation to run, the request fails before anything runs anyway.
            if (!operation || (operation.operation === "query" && !access.private)) return;
            const authorization = request.http?.headers.get("authorization");
            if (!carriesKey(authorization)) throw unauthenticated(access.private ? undefined : operation.operation, authorization !== undefined);
          },
        };
      },
    },
    acceptsConnection: (params) => carriesKey(params?.authorization ?? params?.Authorization),
  };
}

const BEARER = /^Bearer +(\S+) *$/i;

/** Whether an Authorization value, "Bearer <key>", carries one of the keys. */
function keyChecker(keys: readonly string[]): (authorization: unknown) => boolean {
  const digests = keys.map(sha256);
  return (authorization) => {
    const key = typeof authorization === "string" ? BEARER.exec(authorization)?.[1] : undefined;
    if (key === undefined) return false;
    const digest = sha256(key);
    // Every key is compared, so the time taken does not tell which one matched either.
    return digests.reduce((found, candidate) => timingSafeEqual(candidate, digest) || found, false);
  };
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/** @param kind the operation that needed a key, or undefined when every operation does. */
function unauthenticated(kind: OperationTypeNode | undefined, sentOne: boolean): GraphQLError {
  const what = kind === undefined ? "This server is private: every operation needs" : `${kind === "mutation" ? "Mutations" : "Subscriptions"} need`;
  const wrong = sentOne ? " The Authorization header sent carries no valid key." : "";
  return new GraphQLError(`${what} an API key: send the header "Authorization: Bearer <key>".${wrong}`, {
    extensions: { code: "UNAUTHENTICATED", http: { status: 401, headers: new HeaderMap([["www-authenticate", "Bearer"]]) } },
  });
}
