import { defineConfig } from "vitest/config";

export default defineConfig({
  // Node gives the CommonJS packages (Apollo, graphql-ws, GraphQL Armor) graphql's CommonJS build;
  // without this, vitest would give our sources its ESM build, a second graphql that rejects the
  // first one's schema and errors. In production both are the same module.
  resolve: { alias: [{ find: /^graphql$/, replacement: "graphql/index.js" }] },
  test: {
    include: ["test/**/*.test.ts"],
    // Each test file owns its database and models; files run in parallel forks, tests inside a file in order.
    pool: "forks",
    // Two cores here: more workers only contend for them.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    globalSetup: ["test/global-setup.ts"],
  },
});
