/**
 * The Prisma client, generated from prisma/schema.prisma into src/generated/prisma (by `prisma
 * generate`, run on `npm ci`), talking to PostgreSQL through node-postgres: Prisma 7's driver
 * adapter, so no native query engine is needed.
 */
import { PrismaPg } from "@prisma/adapter-pg";
import { Prisma, PrismaClient, type Image } from "../generated/prisma/client.ts";

export { PrismaClient };
export * as Db from "../generated/prisma/client.ts";

/**
 * An image as everything but the worker reads it: without its CLIP embedding (512 or 768 floats),
 * which no API field shows and which would be most of a gallery page's bytes and parsing. Pass
 * `omit: WITHOUT_EMBEDDING` to Prisma; raw SQL selects IMAGE_ROW_COLUMNS.
 */
export type ImageRow = Omit<Image, "clipEmbedding">;
export const WITHOUT_EMBEDDING = { clipEmbedding: true } as const;
export const IMAGE_ROW_COLUMNS = Prisma.raw(
  Object.values(Prisma.ImageScalarFieldEnum)
    .filter((column) => column !== "clipEmbedding")
    .map((column) => `"${column}"`)
    .join(", "),
);

export function createPrismaClient(connectionString: string): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString }) });
}
