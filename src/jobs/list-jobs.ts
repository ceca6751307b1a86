/** `listJobs`: jobs newest first (ties by id), optionally of one status, keyset-paginated. */
import type { Db } from "../db/prisma.ts";
import type { JobPlatform } from "./job-platform.ts";
import { checkPageSize, decodeCursor, toPage, type Page } from "./pages.ts";

export async function listJobs(platform: JobPlatform, first = 20, after?: string | null, status?: Db.JobStatus): Promise<Page<Db.Job>> {
  checkPageSize(first);
  const cursor = after ? decodeCursor(after, "list", readKey) : undefined;
  const where = { ...(status && { status }) };
  const [jobs, totalCount] = await Promise.all([
    platform.prisma.job.findMany({
      where: { ...where, ...(cursor && { OR: [{ createdAt: { lt: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { lt: cursor.id } }] }) },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: first + 1,
    }),
    platform.prisma.job.count({ where }),
  ]);
  return toPage(jobs, first, (job) => [job.createdAt.toISOString(), job.id], totalCount);
}

function readKey([createdAt, id]: unknown[]): { createdAt: Date; id: string } | undefined {
  const date = typeof createdAt === "string" ? new Date(createdAt) : undefined;
  return date && !Number.isNaN(date.getTime()) && typeof id === "string" ? { createdAt: date, id } : undefined;
}
