/**
 * Generates the resolver types from schema.graphql with GraphQL Code Generator (the typescript +
 * typescript-resolvers plugins, run in-process by codegen.ts). Run by `npm ci` (postinstall) and
 * `npm test`, so a schema change a resolver does not follow fails `tsc`.
 *
 *   node --import tsx src/graphql/generate-resolver-types.ts
 */
import * as typescriptPlugin from "@graphql-codegen/typescript";
import * as resolversPlugin from "@graphql-codegen/typescript-resolvers";
import { generateFromSchema } from "./codegen.ts";

await generateFromSchema({
  outFile: "src/generated/graphql/resolvers.ts",
  from: "schema.graphql by src/graphql/generate-resolver-types.ts",
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
