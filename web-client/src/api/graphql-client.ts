/**
 * Queries and mutations over HTTP: POST /graphql with a typed document from
 * src/generated/graphql.ts, so the variables and the answer are typed from schema.graphql. A
 * refusal for want of an API key asks for one (api-key.ts) and sends the operation again.
 */
import type { TypedDocumentString } from "../generated/graphql.ts";
import { askForApiKey, authorization } from "./api-key.ts";

/** One entry of a GraphQL response's `errors`, with the extensions Atelier sets. */
export interface ApiErrorEntry {
  message: string;
  extensions?: {
    code?: string;
    /** BAD_USER_INPUT: the argument's path, e.g. ["input", "samples"]. */
    field?: string[];
    /** BAD_USER_INPUT from generate: every problem, each naming its field. */
    problems?: { field: string; allowed: string }[];
  };
}

/** An operation the API refused, or a server that could not be reached. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(readonly errors: ApiErrorEntry[]) {
    super(errors.map((error) => error.message).join("; "));
  }

  get code(): string | undefined {
    return this.errors[0]?.extensions?.code;
  }

  /**
   * What is wrong with each field of an input, by the field's name: from generate's `problems`, or
   * the `field` path of any other BAD_USER_INPUT, or a variable the server could not coerce (a seed
   * out of range), whose message names its path (`… at "input.seed"; …`).
   */
  fieldErrors(): Record<string, string> {
    const byField: Record<string, string> = {};
    for (const error of this.errors) {
      for (const problem of error.extensions?.problems ?? []) byField[problem.field] ??= capitalized(problem.allowed);
      const field = error.extensions?.field?.at(-1) ?? /at "\w+\.(\w+)"/.exec(error.message)?.[1];
      if (field) byField[field] ??= error.message.replace(/^.*?; /, "");
    }
    return byField;
  }
}

export async function request<TResult, TVariables>(document: TypedDocumentString<TResult, TVariables>, variables: TVariables): Promise<TResult> {
  for (;;) {
    const sent = authorization();
    const response = await fetch("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", ...(sent ? { authorization: sent } : {}) },
      body: JSON.stringify({ query: document.toString(), variables }),
    }).catch(() => {
      throw new ApiError([{ message: "The server cannot be reached. Check that Atelier is running, then try again." }]);
    });
    const body = (await response.json().catch(() => undefined)) as { data?: TResult | null; errors?: ApiErrorEntry[] } | undefined;
    const errors = body?.errors ?? [];
    if (response.status === 401 || errors.some((error) => error.extensions?.code === "UNAUTHENTICATED")) {
      await askForApiKey(sent).catch((declined: Error) => {
        throw new ApiError([{ message: declined.message, extensions: { code: "UNAUTHENTICATED" } }]);
      });
      continue;
    }
    if (errors.length > 0) throw new ApiError(errors);
    if (!response.ok || !body?.data) throw new ApiError([{ message: `The server answered ${response.status} ${response.statusText}.` }]);
    return body.data;
  }
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
