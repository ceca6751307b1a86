/**
 * JSON-RPC 2.0 over newline-delimited JSON, both ways: Prisma's CLI sends requests on stdin and
 * reads responses on stdout, and the engine may itself send the CLI a request (the native engine's
 * `print`), whose response then arrives on stdin. Requests are answered one at a time, in order:
 * there is one engine and it works on one thing at a time.
 */
import type { Readable, Writable } from "node:stream";
import readline from "node:readline";

export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

/** What a handler produced for one request; `last` ends the session after this response. */
export type RpcOutcome = { result: unknown; last?: boolean } | { error: JsonRpcErrorObject; last?: boolean };

/** The CLI side of the connection, as seen by a request handler. */
export interface RpcClient {
  request(method: string, params: unknown): Promise<unknown>;
}

export type RequestHandler = (method: string, params: unknown, client: RpcClient) => Promise<RpcOutcome>;

type Message = { id?: number | string | null; method?: string; params?: unknown; result?: unknown; error?: JsonRpcErrorObject };

/** Serves until the input ends or a handler says `last`; resolves with which of the two it was. */
export function serveJsonRpc(input: Readable, output: Writable, handle: RequestHandler): Promise<"input-ended" | "last-request"> {
  const send = (message: object) => output.write(`${JSON.stringify({ jsonrpc: "2.0", ...message })}\n`);
  const awaitingAnswer = new Map<number, (answer: Message) => void>();
  let nextId = 1;
  const client: RpcClient = {
    request: (method, params) =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        awaitingAnswer.set(id, (answer) => (answer.error ? reject(new Error(answer.error.message)) : resolve(answer.result)));
        send({ id, method, params });
      }),
  };

  return new Promise((resolve) => {
    const lines = readline.createInterface({ input, crlfDelay: Infinity });
    let queue = Promise.resolve();
    let stopped = false;
    const stop = (reason: "input-ended" | "last-request") => {
      if (stopped) return;
      stopped = true;
      lines.close();
      resolve(reason);
    };
    lines.on("line", (line) => {
      if (line.trim() === "") return;
      const message = parse(line);
      if (!message) return send({ id: null, error: { code: -32700, message: `Parse error: ${line.slice(0, 200)}` } });
      if (message.method === undefined) return awaitingAnswer.get(Number(message.id))?.(message);
      queue = queue.then(async () => {
        if (stopped) return;
        const outcome = await handle(message.method!, message.params, client);
        send({ id: message.id ?? null, ...("error" in outcome ? { error: outcome.error } : { result: outcome.result }) });
        if (outcome.last) stop("last-request");
      });
    });
    lines.on("close", () => void queue.then(() => stop("input-ended")));
  });
}

function parse(line: string): Message | undefined {
  try {
    const message = JSON.parse(line) as unknown;
    return typeof message === "object" && message !== null ? (message as Message) : undefined;
  } catch {
    return undefined;
  }
}
