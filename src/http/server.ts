/**
 * Listening and shutting down: the HTTP server that carries the Express app (and, later, the
 * GraphQL WebSocket endpoint on the same port).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Express } from "express";
import { UserFacingError } from "../errors.ts";

export interface HttpServer {
  /** Base URL clients use, e.g. http://127.0.0.1:4000. */
  readonly url: string;
  readonly server: http.Server;
  /** Stops accepting connections, lets requests in flight finish, closes idle keep-alive sockets. */
  close(): Promise<void>;
}

/** Thrown when the port cannot be bound; the message names PORT/HOST. */
export class ListenError extends UserFacingError {
  override readonly name = "ListenError";
}

export async function listen(app: Express, host: string, port: number): Promise<HttpServer> {
  const server = http.createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        new ListenError(
          error.code === "EADDRINUSE"
            ? `Port ${port} on ${host} is already in use. Set PORT to a free port (or stop the other process).`
            : `Cannot listen on ${host}:${port} (HOST/PORT): ${error.message}`,
        ),
      ),
    );
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= new Promise<void>((resolve, reject) => {
      // Already closed by Apollo's drain plugin (which closes the server it drains) is fine.
      server.close((error) => (error && (error as NodeJS.ErrnoException).code !== "ERR_SERVER_NOT_RUNNING" ? reject(error) : resolve()));
      server.closeIdleConnections();
    }));
  return { url: `http://${shownHost}:${address.port}`, server, close };
}
