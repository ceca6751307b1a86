/**
 * Subscriptions over graphql-ws on ws(s)://<this host>/graphql: one socket for the whole client,
 * opened when the first subscription starts and closed a moment after the last one ends. A lost
 * socket is opened again, forever, with a growing pause; a socket closed with 4403 (no valid API
 * key in connection_init) waits for the person to give one first (api-key.ts), and, when they
 * would rather not, until a key is given some other time.
 *
 * graphql-ws subscribes again by itself after a dropped connection. A server that shuts down
 * completes every subscription first, though, so a `complete` may come before the job has ended:
 * subscribers (jobs/use-live-job.ts) subscribe again, and the first event tells the job's state.
 */
import { createClient, type Sink } from "graphql-ws";
import { useSyncExternalStore } from "react";
import type { TypedDocumentString } from "../generated/graphql.ts";
import { askForApiKey, authorization, nextApiKey } from "./api-key.ts";

/**
 * The socket's state, for the connection banner. "reconnecting": it was up, and is down now;
 * "needs-key": the server wants an API key that the person has not given.
 */
export type ConnectionState = "idle" | "connecting" | "connected" | "reconnecting" | "needs-key";

const FORBIDDEN = 4403;

let state: ConnectionState = "idle";
const listeners = new Set<() => void>();
function setState(next: ConnectionState) {
  state = next;
  for (const listener of listeners) listener();
}

/** What connection_init carried on the latest socket, and the code it last closed with. */
let sentAuthorization: string | undefined;
let lastCloseCode: number | undefined;

const client = createClient({
  url: () => `${window.location.protocol === "https:" ? "wss" : "ws"}://${window.location.host}/graphql`,
  connectionParams: () => {
    sentAuthorization = authorization();
    return sentAuthorization ? { authorization: sentAuthorization } : {};
  },
  lazy: true,
  retryAttempts: Infinity,
  shouldRetry: () => true,
  retryWait: async (retries) => {
    if (lastCloseCode === FORBIDDEN) {
      setState("needs-key");
      return askForApiKey(sentAuthorization).catch(nextApiKey);
    }
    // 0.5 s, 1 s, 2 s, … up to 5 s, a little randomized so that restarting servers are not stampeded.
    const pause = Math.min(5000, 500 * 2 ** retries) * (0.8 + Math.random() * 0.4);
    await new Promise((resolve) => setTimeout(resolve, pause));
  },
  on: {
    connecting: (isRetry) => setState(isRetry ? "reconnecting" : "connecting"),
    connected: () => {
      lastCloseCode = undefined;
      setState("connected");
    },
    closed: (event) => {
      lastCloseCode = (event as CloseEvent | undefined)?.code;
      // 1000: closed on purpose, once no subscription was left.
      setState(lastCloseCode === 1000 ? "idle" : state === "connected" || state === "reconnecting" ? "reconnecting" : state);
    },
  },
});

/**
 * Subscribes; returns the function that unsubscribes. `error` is the stream failing (the job does
 * not exist); one event that could not be read (an image deleted before its ImageReady went out)
 * is skipped, as the stream goes on.
 */
export function subscribe<TResult, TVariables extends Record<string, unknown>>(
  document: TypedDocumentString<TResult, TVariables>,
  variables: TVariables,
  sink: { next(data: TResult): void; error(error: unknown): void; complete(): void },
): () => void {
  const forward: Sink<{ data?: TResult | null; errors?: readonly unknown[] }> = {
    next: (result) => (result.data ? sink.next(result.data) : console.warn("Skipped a live event the server could not read:", result.errors)),
    error: sink.error,
    complete: sink.complete,
  };
  return client.subscribe({ query: document.toString(), variables }, forward as Sink);
}

/** The socket's state; re-renders when it changes. */
export function useConnectionState(): ConnectionState {
  return useSyncExternalStore(
    (onChange) => {
      listeners.add(onChange);
      return () => listeners.delete(onChange);
    },
    () => state,
  );
}
