/**
 * Limits on what one GraphQL operation may ask, checked before anything runs and the same over
 * HTTP (Apollo) and WebSocket (graphql-ws): depth, aliases and directives (GraphQL Armor's rules),
 * tokens (graphql-js's parser) and cost (graphql-query-complexity). Cost counts the fields an
 * answer may hold, a list's once per item, so a gallery of 100 images that each nest their
 * prompt's gallery of 100 (10,000 images) is refused, while a page of 24 with jobs and prompts is
 * far below the limit. A WebSocket runs a bounded number of operations at once. Refusals say which
 * limit, with extensions.code GRAPHQL_VALIDATION_FAILED (HTTP 400).
 *
 * Armor's own cost rule is not used: it multiplies by `first` only when `first` is a literal, so
 * `gallery(first: $n)` or a default of 24 would cost as one item. graphql-query-complexity sees the
 * argument values with variables and defaults applied, but needs the request's variables, so over
 * HTTP it runs once Apollo has resolved the operation rather than as a validation rule.
 */
import type { ApolloServerPlugin } from "@apollo/server";
import { ApolloArmor } from "@escape.tech/graphql-armor";
import {
  getOperationAST,
  GraphQLError,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type ExecutionArgs,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ValidationContext,
  type ValidationRule,
} from "graphql";
import { getComplexity, type ComplexityEstimator } from "graphql-query-complexity";
import type { SubscribePayload } from "graphql-ws";
import { MAX_PAGE_SIZE } from "../jobs/pages.ts";
import type { GraphQLContext } from "./context.ts";

const LIMITS = {
  /** Nested fields: `gallery { edges { node { job { id } } } }` is 5 deep (fragments add none). */
  depth: 10,
  /** Fields an answer may hold, a list's once per item it may return (see itemsOf). */
  cost: 10_000,
  aliases: 15,
  directives: 10,
  /** Lexical tokens in one document; the 100 kB body limit alone would allow tens of thousands. */
  tokens: 2_000,
  /** Operations one WebSocket runs at the same time (subscriptions, and queries while they run). */
  operationsPerConnection: 16,
} as const;

/** Query texts whose checked document a WebSocket server keeps (each at most the 100 kB message limit). */
const CHECKED_DOCUMENTS = 256;

export interface Protection {
  /** For ApolloServer's options. */
  apollo: { validationRules: ValidationRule[]; parseOptions: { maxTokens: number }; plugin: ApolloServerPlugin<GraphQLContext> };
  /**
   * For graphql-ws's onSubscribe: the same checks, and the limit per connection; the execution
   * arguments for graphql-ws to run, or why not.
   */
  prepare(connection: { subscriptions: Record<string, unknown> }, payload: SubscribePayload): ExecutionArgs | GraphQLError[];
}

/** @param samplesPerJob the most images a job has (ATELIER_MAX_SAMPLES): the length of `Job.images`. */
export function createProtection(schema: GraphQLSchema, samplesPerJob: number): Protection {
  const armor = armorRules();
  const rules = [...specifiedRules, ...armor];
  const estimators = [estimateCost(samplesPerJob)];
  const refuseCost = (document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown> | undefined) =>
    costRefusal(getCost(schema, document, operation, variables, estimators));
  // Each distinct query text is parsed and validated once (CHECKED_DOCUMENTS of them are kept, the
  // oldest dropped first): a thousand clients subscribing with the same query share one document, which also lets
  // shared-subscribe.ts share each event's result among them.
  const checked = new Map<string, DocumentNode | GraphQLError[]>();
  const checkDocument = (query: string): DocumentNode | GraphQLError[] => {
    let result = checked.get(query);
    if (result) return result;
    const document = parseQuery(query);
    const errors = document instanceof GraphQLError ? [document] : validate(schema, document, rules).map((error) => withCode(error, "GRAPHQL_VALIDATION_FAILED"));
    result = errors.length > 0 ? errors : (document as DocumentNode);
    if (checked.size >= CHECKED_DOCUMENTS) checked.delete(checked.keys().next().value!);
    checked.set(query, result);
    return result;
  };
  return {
    apollo: {
      validationRules: armor,
      parseOptions: { maxTokens: LIMITS.tokens },
      plugin: {
        async requestDidStart() {
          return {
            async didResolveOperation({ document, operation, request }) {
              // Without one operation to run, the request fails before anything runs anyway.
              const refusal = operation && refuseCost(document, operation, request.variables);
              if (refusal) throw withHttpStatus(refusal, 400);
            },
          };
        },
      },
    },
    prepare(connection, payload) {
      // graphql-ws has already entered this operation in `subscriptions`.
      const running = Object.keys(connection.subscriptions).length;
      if (running > LIMITS.operationsPerConnection) return [refusal(`Operations limit of ${LIMITS.operationsPerConnection} per connection exceeded: complete one, or open another connection`)];
      const document = checkDocument(payload.query);
      if (Array.isArray(document)) return document;
      const args = { schema, document, operationName: payload.operationName, variableValues: payload.variables };
      // Without a single operation to run, graphql-ws refuses the document itself.
      const operation = getOperationAST(document, payload.operationName);
      const costly = operation && refuseCost(document, operation, payload.variables ?? undefined);
      return costly ? [costly] : args;
    },
  };
}

/** The document, or why it is not one (a syntax error, or more tokens than the limit). */
function parseQuery(query: string): DocumentNode | GraphQLError {
  try {
    return parse(query, { maxTokens: LIMITS.tokens });
  } catch (error) {
    if (error instanceof GraphQLError) return withCode(error, "GRAPHQL_PARSE_FAILED");
    throw error;
  }
}

/** Armor's depth, aliases and directives rules: plain graphql-js validation rules, for both transports. */
function armorRules(): ValidationRule[] {
  const report = { propagateOnRejection: false, onReject: [reportRefusal] };
  return new ApolloArmor({
    maxDepth: { n: LIMITS.depth, flattenFragments: true, ...report },
    maxAliases: { n: LIMITS.aliases, ...report },
    maxDirectives: { n: LIMITS.directives, ...report },
    // Done by graphql-query-complexity (see the header) and by graphql-js's parser, alike on both transports.
    costLimit: { enabled: false },
    maxTokens: { enabled: false },
    // The schema is published (schema.graphql): suggesting field names gives nothing away.
    blockFieldSuggestion: { enabled: false },
  }).protect().validationRules;
}

/** Armor's errors read "Syntax Error: Query depth limit of 10 exceeded, found 12." and carry no code. */
function reportRefusal(context: ValidationContext | null, error: GraphQLError): void {
  context?.reportError(refusal(error.message.replace(/^Syntax Error: /, "")));
}

/**
 * What a field costs: 1, plus its fields' cost once per item it may return. A paged field returns
 * up to `first` items, `Job.images` up to the samples limit, any other field one.
 */
function estimateCost(samplesPerJob: number): ComplexityEstimator {
  return ({ type, field, args, childComplexity }) => 1 + itemsOf(`${type.name}.${field.name}`, args, samplesPerJob) * childComplexity;
}

function itemsOf(field: string, args: Record<string, unknown>, samplesPerJob: number): number {
  // An explicit null takes the resolver's default page size; a `first` below 1 is refused when it
  // runs, but must not lower the sum of its siblings here.
  if ("first" in args) return typeof args.first === "number" ? Math.max(1, args.first) : MAX_PAGE_SIZE;
  return field === "Job.images" ? samplesPerJob : 1;
}

type Cost = { cost: number } | { error: GraphQLError };

function getCost(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown> | undefined, estimators: ComplexityEstimator[]): Cost {
  try {
    return { cost: getComplexity({ schema, query: document, operationName: operation.name?.value, variables, estimators }) };
  } catch (error) {
    // Variables that do not fit the operation, or more nodes than it walks (fragments spread into
    // fragments): either way nothing may run.
    if (error instanceof GraphQLError) return { error: new GraphQLError(error.message, { nodes: error.nodes, extensions: { code: "BAD_USER_INPUT" } }) };
    throw error;
  }
}

function costRefusal(result: Cost): GraphQLError | undefined {
  if ("error" in result) return result.error;
  if (result.cost <= LIMITS.cost) return undefined;
  return refusal(`Query cost limit of ${LIMITS.cost} exceeded, found ${result.cost}: each field counts once per item of the lists around it, so ask for fewer items (first) or fewer nested lists`);
}

function refusal(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: "GRAPHQL_VALIDATION_FAILED" } });
}

/** graphql-js's own parse and validation errors carry no code; Apollo adds one over HTTP, this over WebSocket. */
function withCode(error: GraphQLError, code: string): GraphQLError {
  if (error.extensions.code !== undefined) return error;
  return new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, originalError: error, extensions: { ...error.extensions, code } });
}

/** Apollo answers with the status in extensions.http (and leaves it out of the response). */
function withHttpStatus(error: GraphQLError, status: number): GraphQLError {
  return new GraphQLError(error.message, { nodes: error.nodes, extensions: { ...error.extensions, http: { status } } });
}
