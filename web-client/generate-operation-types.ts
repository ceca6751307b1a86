/**
 * Types the web client's operations (web-client/src/api/operations.graphql) from schema.graphql,
 * the same way src/graphql/generate-resolver-types.ts types the resolvers: GraphQL Code Generator
 * run in-process, no network, no CLI. Each operation becomes a typed document string
 * (typescript-operations + typed-document-node in "string" mode), so the bundle carries the query
 * text and its types but not graphql-js. Validating the documents against the schema is part of the
 * run: an operation the schema no longer answers fails `npm run codegen`, before tsc or the build.
 *
 *   node --import tsx web-client/generate-operation-types.ts
 */
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { codegen } from "@graphql-codegen/core";
import * as typedDocumentNodePlugin from "@graphql-codegen/typed-document-node";
import * as operationsPlugin from "@graphql-codegen/typescript-operations";
import { buildSchema, parse, printSchema } from "graphql";

const root = fileURLToPath(new URL("..", import.meta.url));
const schemaFile = path.join(root, "schema.graphql");
const documentsFile = path.join(root, "web-client/src/api/operations.graphql");
const outFile = path.join(root, "web-client/src/generated/graphql.ts");

const schema = buildSchema(await fs.readFile(schemaFile, "utf8"));
const output = await codegen({
  filename: outFile,
  schema: parse(printSchema(schema)),
  documents: [{ location: documentsFile, document: parse(await fs.readFile(documentsFile, "utf8")) }],
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
await fs.mkdir(path.dirname(outFile), { recursive: true });
await fs.writeFile(outFile, `// Generated from schema.graphql and operations.graphql by web-client/generate-operation-types.ts. Do not edit.\n${output}`);
