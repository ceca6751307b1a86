/**
 * GraphQL Code Generator run in-process on schema.graphql (its core and plugins: no network, no
 * CLI), for the two generated files: the resolver types (src/graphql/generate-resolver-types.ts)
 * and the web client's operation types (web-client/generate-operation-types.ts).
 */
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { codegen } from "@graphql-codegen/core";
import { buildSchema, parse, printSchema } from "graphql";

/** The checkout's root folder. */
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

type CodegenOptions = Parameters<typeof codegen>[0];

export interface GeneratedFile {
  /** Where the output goes, relative to the root. */
  outFile: string;
  /** What the file is generated from and by, for its "Do not edit" header. */
  from: string;
  /** Operation documents to type, relative to the root. */
  documents?: string[];
  plugins: CodegenOptions["plugins"];
  pluginMap: CodegenOptions["pluginMap"];
  config: CodegenOptions["config"];
}

export async function generateFromSchema(file: GeneratedFile): Promise<void> {
  const outFile = path.join(ROOT, file.outFile);
  const schema = buildSchema(await fs.readFile(path.join(ROOT, "schema.graphql"), "utf8"));
  const documents = await Promise.all(
    (file.documents ?? []).map(async (location) => ({ location, document: parse(await fs.readFile(path.join(ROOT, location), "utf8")) })),
  );
  const output = await codegen({ filename: outFile, schema: parse(printSchema(schema)), documents, plugins: file.plugins, pluginMap: file.pluginMap, config: file.config });
  await fs.mkdir(path.dirname(outFile), { recursive: true });
  await fs.writeFile(outFile, `// Generated from ${file.from}. Do not edit.\n${output}`);
}
