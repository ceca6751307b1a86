/**
 * The errors clients see. A user's mistake becomes a GraphQL error with a code in `extensions`:
 * BAD_USER_INPUT (with the offending field's path in `extensions.field`, and every problem in
 * `extensions.problems`), or NOT_FOUND. Anything else is internal: its message and stack stay in
 * the server's log (unless NODE_ENV=development).
 */
import { GraphQLError, type GraphQLFormattedError } from "graphql";
import { JobParametersError } from "../jobs/job-limits.ts";
import { JobStateError, NotFoundError } from "../jobs/job-platform.ts";
import { PageArgumentsError } from "../jobs/pages.ts";
import type { Logger } from "../log.ts";

/** Translates the job layer's errors into GraphQL errors; rethrows anything else unchanged. */
export function toGraphQLError(error: unknown, inputArgument?: string): never {
  if (error instanceof JobParametersError) {
    const [first] = error.problems;
    throw new GraphQLError(error.message, {
      extensions: {
        code: "BAD_USER_INPUT",
        field: [inputArgument, first!.parameter].filter(Boolean),
        problems: error.problems.map((problem) => ({ field: problem.parameter, value: problem.value, allowed: problem.allowed })),
      },
    });
  }
  if (error instanceof PageArgumentsError) throw new GraphQLError(error.message, { extensions: { code: "BAD_USER_INPUT", field: [error.field] } });
  if (error instanceof JobStateError) throw new GraphQLError(error.message, { extensions: { code: "BAD_USER_INPUT" } });
  if (error instanceof NotFoundError) throw new GraphQLError(error.message, { extensions: { code: "NOT_FOUND" } });
  throw error;
}

/** Runs a resolver body, translating the job layer's errors. */
export async function translated<T>(work: () => Promise<T>, inputArgument?: string): Promise<T> {
  try {
    return await work();
  } catch (error) {
    return toGraphQLError(error, inputArgument);
  }
}

const CLIENT_CODES = new Set(["BAD_USER_INPUT", "NOT_FOUND", "GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED", "UNAUTHENTICATED", "BAD_REQUEST", "PERSISTED_QUERY_NOT_FOUND", "OPERATION_RESOLUTION_FAILURE"]);

export type FormatError = (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;

/** Apollo's formatError: clients' own mistakes pass; internal errors are logged and masked. */
export function formatError(log: Logger, development: boolean): FormatError {
  // An event's result is shared by its subscribers (shared-subscribe.ts): log its error once.
  const logged = new WeakSet<object>();
  return (formatted, error) => {
    const code = formatted.extensions?.code;
    if (typeof code === "string" && CLIENT_CODES.has(code)) return { ...formatted, extensions: { ...formatted.extensions, stacktrace: undefined } };
    if (!(error instanceof Object) || !logged.has(error)) log.error("internal error in a GraphQL operation", { path: formatted.path, error });
    if (error instanceof Object) logged.add(error);
    if (development) return formatted;
    return { message: "Internal server error", locations: formatted.locations, path: formatted.path, extensions: { code: "INTERNAL_SERVER_ERROR" } };
  };
}

/** What formatError makes of errors graphql-ws is about to send: the same as over HTTP. */
export function formatErrors(format: FormatError, errors: readonly GraphQLError[]): GraphQLFormattedError[] {
  return errors.map((error) => {
    // graphql-ws wraps an error thrown by a running stream in a GraphQLError that keeps only its
    // message; the code is on the original.
    const shown = error.originalError instanceof GraphQLError ? error.originalError : error;
    return format(shown.toJSON(), shown);
  });
}
