/**
 * The Prisma client, generated from prisma/schema.prisma into src/generated/prisma (by `prisma
 * generate`, run on `npm ci`), talking to PostgreSQL through node-postgres: Prisma 7's driver
 * adapter, so no native query engine is needed.
 */
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../generated/prisma/client.ts";

export { PrismaClient };
export * as Db from "../generated/prisma/client.ts";

export function createPrismaClient(connectionString: string): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString }) });
}
