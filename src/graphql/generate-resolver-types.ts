/**
 * Generates the resolver types from schema.graphql with GraphQL Code Generator (its core and the
 * typescript + typescript-resolvers plugins, run in-process: no network, no CLI). Run by `npm ci`
 * (postinstall) and `npm test`, so a schema change a resolver does not follow fails `tsc`.
 *
 *   node --import tsx src/graphql/generate-resolver-types.ts
 */
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { codegen } from "@graphql-codegen/core";
import * as typescriptPlugin from "@graphql-codegen/typescript";
import * as resolversPlugin from "@graphql-codegen/typescript-resolvers";
import { buildSchema, parse, printSchema } from "graphql";

const root = fileURLToPath(new URL("../..", import.meta.url));
const schemaFile = path.join(root, "schema.graphql");
const outFile = path.join(root, "src/generated/graphql/resolvers.ts");

const schema = buildSchema(await fs.readFile(schemaFile, "utf8"));
const output = await codegen({
  filename: outFile,
  schema: parse(printSchema(schema)),
  documents: [],
  plugins: [{ typescript: {} }, { typescriptResolvers: {} }],
  pluginMap: { typescript: typescriptPlugin, typescriptResolvers: resolversPlugin },
  config: {
    useTypeImports: true,
    enumsAsTypes: true,
    // Resolvers return database rows and event payloads; field resolvers make the rest.
    mappers: {
      Job: "../../graphql/models.ts#JobModel",
      Image: "../../graphql/models.ts#ImageModel",
      Prompt: "../../graphql/models.ts#PromptModel",
      Model: "../../graphql/models.ts#ModelModel",
      JobStatusChanged: "../../graphql/models.ts#JobStatusChangedModel",
      StepProgress: "../../graphql/models.ts#StepProgressModel",
      ImageReady: "../../graphql/models.ts#ImageReadyModel",
    },
    contextType: "../../graphql/context.ts#GraphQLContext",
    scalars: { DateTime: "Date", Seed: "number" },
    resolversNonOptionalTypename: { unionMember: true },
  },
});
await fs.mkdir(path.dirname(outFile), { recursive: true });
await fs.writeFile(outFile, `// Generated from schema.graphql by src/graphql/generate-resolver-types.ts. Do not edit.\n${output}`);
