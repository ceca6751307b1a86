/**
 * `atelier serve` is a whole platform: its embedded worker (a child process) runs jobs submitted
 * to its database, and stops with the server, even one that was SIGKILLed; with
 * ATELIER_EMBEDDED_WORKER=0 it runs none, and leaves them to `atelier worker` processes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { submitJob } from "../../src/jobs/submit-job.ts";
import { subscribeJob } from "../../src/jobs/subscribe-job.ts";
import { startCli, type CliProcess } from "../support/cli-process.ts";
import { freePort } from "../support/free-port.ts";
import { collectEvents, startTestPlatform, type TestPlatform } from "../support/job-platform.ts";

let test: TestPlatform;
const processes: CliProcess[] = [];

beforeAll(async () => {
  test = await startTestPlatform();
});
afterAll(async () => {
  for (const cli of processes) cli.child.kill("SIGKILL");
  await test?.stop();
});

async function serve(env: NodeJS.ProcessEnv) {
  const cli = startCli(["serve"], test.env({ PORT: String(await freePort()), LOG_LEVEL: "info", ...env }));
  processes.push(cli);
  await cli.waitFor(/listening on http/);
  return cli;
}

describe("atelier serve", () => {
  it("runs the jobs submitted to its database with its embedded worker", async () => {
    const cli = await serve({});
    expect(cli.output()).toMatch(/worker ready/);
    const job = await submitJob(test.platform, { prompt: "made by serve", samples: 2, steps: 3 });
    expect((await collectEvents(subscribeJob(test.platform, job.id))).at(-1)).toMatchObject({ status: "SUCCEEDED" });
    expect(await test.platform.prisma.image.count({ where: { jobId: job.id } })).toBe(2);
    cli.child.kill("SIGTERM");
    expect(await cli.exited).toBe(0);
  });

  it("runs the worker as a child process, which stops by itself when the server is SIGKILLed", async () => {
    const cli = await serve({});
    await cli.waitFor(/worker ready/);
    const workerPid = Number(/"workerId":"[^:"]+:(\d+):/.exec(cli.output())![1]);
    expect(workerPid).not.toBe(cli.child.pid);
    cli.child.kill("SIGKILL");
    await cli.exited;
    for (let waited = 0; isAlive(workerPid); waited += 100) {
      expect(waited, "the worker outlived its server by 15 s").toBeLessThan(15_000);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });

  it("runs no worker with ATELIER_EMBEDDED_WORKER=0: jobs wait for a worker process", async () => {
    const cli = await serve({ ATELIER_EMBEDDED_WORKER: "0" });
    const job = await submitJob(test.platform, { prompt: "waits for a worker", samples: 1, steps: 2 });
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(await test.platform.prisma.job.findUniqueOrThrow({ where: { id: job.id } })).toMatchObject({ status: "QUEUED" });
    expect(cli.output()).not.toMatch(/worker ready/);
    const worker = startCli(["worker"], test.env());
    processes.push(worker);
    expect((await collectEvents(subscribeJob(test.platform, job.id))).at(-1)).toMatchObject({ status: "SUCCEEDED" });
    cli.child.kill("SIGTERM");
    worker.child.kill("SIGTERM");
    expect([await cli.exited, await worker.exited]).toEqual([0, 0]);
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
