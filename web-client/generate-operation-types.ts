/**
 * Types the web client's operations (web-client/src/api/operations.graphql) from schema.graphql,
 * the same way src/graphql/generate-resolver-types.ts types the resolvers (codegen.ts: GraphQL
 * Code Generator in-process). Each operation becomes a typed document string
 * (typescript-operations + typed-document-node in "string" mode), so the bundle carries the query
 * text and its types but not graphql-js. Validating the documents against the schema is part of the
 * run: an operation the schema no longer answers fails `npm run codegen`, before tsc or the build.
 *
 *   node --import tsx web-client/generate-operation-types.ts
 */
import * as typedDocumentNodePlugin from "@graphql-codegen/typed-document-node";
import * as operationsPlugin from "@graphql-codegen/typescript-operations";
import { generateFromSchema } from "../src/graphql/codegen.ts";

await generateFromSchema({
  outFile: "web-client/src/generated/graphql.ts",
  from: "schema.graphql and operations.graphql by web-client/generate-operation-types.ts",
  documents: ["web-client/src/api/operations.graphql"],
  plugins: [{ operations: {} }, { typedDocumentNode: {} }],
  pluginMap: { operations: operationsPlugin, typedDocumentNode: typedDocumentNodePlugin },
  config: {
    useTypeImports: true,
    enumType: "string-literal",
    documentMode: "string",
    // What arrives over the wire: JSON has no Date.
    scalars: { DateTime: "string", Seed: "number" },
    nonOptionalTypename: true,
  },
});
