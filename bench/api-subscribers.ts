/**
 * The subscribers of bench/api.ts, in a process of their own so that the server's event loop does
 * not also parse what it sends (real clients are elsewhere). Forked with an IPC channel:
 *
 *   parent → { url, jobId, count }   open `count` graphql-ws connections, each subscribed to jobId
 *   child  → { ready: true }         once every subscription has received its first event
 *   parent → { report: true }        send back what arrived and close the connections
 *   child  → { receipts }            per step event "sampleIndex:step", the receipt times
 *
 * Times are `performance.timeOrigin + performance.now()`, milliseconds on the wall clock that both
 * processes share, so parent and child compare them directly.
 */
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { wallClock } from "./bench-support.ts";

interface Start {
  url: string;
  jobId: string;
  count: number;
}

const SUBSCRIPTION = `subscription ($jobId: ID!) { jobEvents(jobId: $jobId) { __typename ... on StepProgress { sampleIndex step } } }`;

if (process.send) {
  const clients: Client[] = [];
  const receipts: Record<string, number[]> = {};
  process.on("message", async (message: Start | { report: true }) => {
    if ("report" in message) {
      await Promise.all(clients.map((client) => client.dispose()));
      process.send!({ receipts }, () => process.exit(0));
      return;
    }
    const { url, jobId, count } = message;
    await Promise.all(
      Array.from({ length: count }, () => {
        const client = createClient({ url: `${url.replace("http", "ws")}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
        clients.push(client);
        return new Promise<void>((subscribed) => {
          client.subscribe(
            { query: SUBSCRIPTION, variables: { jobId } },
            {
              next: ({ data }) => {
                const event = data?.jobEvents as { __typename: string; sampleIndex?: number; step?: number } | undefined;
                if (event?.__typename !== "StepProgress") return subscribed();
                (receipts[`${event.sampleIndex}:${event.step}`] ??= []).push(wallClock());
              },
              error: (error) => console.error("subscription error", error),
              complete: () => {},
            },
          );
        });
      }),
    );
    process.send!({ ready: true });
  });
}
