/**
 * Connection-level failures in Prisma's words: the user-facing error codes (P1000–P1011) and
 * messages of prisma-engines' `user-facing-errors` crate, which Prisma's CLI acts on (P1003 makes
 * `migrate dev` create the database). The database's own message follows, when it sent one: it
 * often says more than the code (`role "x" does not exist` behind P1010).
 */
import { isDriverAdapterError, type Error as MappedDriverError } from "@prisma/driver-adapter-utils";
import { databaseName } from "./database-admin.ts";

export interface UserFacingError {
  errorCode?: string;
  message: string;
}

interface Target {
  host: string;
  port: string;
  user: string;
  database: string;
}

export function userFacingError(error: unknown, connectionString: string): UserFacingError {
  if (!(error instanceof Error) || !isDriverAdapterError(error)) {
    return { message: error instanceof Error ? error.message : String(error) };
  }
  const cause = error.cause as MappedDriverError;
  const known = describe(cause, target(connectionString));
  if (!known) return { message: cause.originalMessage ?? error.message };
  const said = cause.originalMessage ? `\n\nDatabase error: ${cause.originalMessage}` : "";
  return { errorCode: known.errorCode, message: known.message + said };
}

function describe(cause: MappedDriverError, { host, port, user, database }: Target): Required<UserFacingError> | undefined {
  const at = `\`${host}:${port}\``;
  switch (cause.kind) {
    case "AuthenticationFailed":
      return {
        errorCode: "P1000",
        message: `Authentication failed against database server at \`${host}\`, the provided database credentials for \`${cause.user ?? user}\` are not valid.`,
      };
    case "DatabaseNotReachable":
      return { errorCode: "P1001", message: `Can't reach database server at ${at}\n\nPlease make sure your database server is running at ${at}.` };
    case "SocketTimeout":
      return { errorCode: "P1002", message: `The database server at ${at} was reached but timed out.` };
    case "DatabaseDoesNotExist":
      return { errorCode: "P1003", message: `Database \`${cause.db ?? database}\` does not exist on the database server at ${at}.` };
    case "DatabaseAlreadyExists":
      return { errorCode: "P1009", message: `Database \`${cause.db ?? database}\` already exists on the database server at ${at}` };
    case "DatabaseAccessDenied":
      return { errorCode: "P1010", message: `User \`${user}\` was denied access on the database \`${cause.db ?? database}\`` };
    case "TlsConnectionError":
      return { errorCode: "P1011", message: `Error opening a TLS connection: ${cause.reason}` };
    case "ConnectionClosed":
      return { errorCode: "P1017", message: "Server has closed the connection." };
    default:
      return undefined;
  }
}

function target(connectionString: string): Target {
  const url = new URL(connectionString);
  return {
    host: url.searchParams.get("host") ?? decodeURIComponent(url.hostname),
    port: url.port || "5432",
    user: decodeURIComponent(url.username),
    database: databaseName(connectionString),
  };
}
