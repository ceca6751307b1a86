/**
 * The web client in a real browser (Chromium, test/support/browser.ts) against a real
 * `atelier serve` (its own database, the demo models, the embedded worker): what a person does,
 * found the way they find it (by role and label). Every view is saved at 1280 and 375 px under
 * test-results/web-client/.
 *
 * Jobs are small (the tiny demo model, 128–256 px) but have enough steps that the browser sees them
 * run; the cancelled and the restarted ones are bigger, so they are still running when it acts.
 */
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { captureView, chromiumMissing, launchChromium } from "../support/browser.ts";
import { startServe, type ServeProcess } from "../support/serve-process.ts";

const PROMPT = "A lighthouse at dusk, oil on canvas";
// A test's own waits (each up to 60 s, saying what it waited for) decide, not the suite's 60 s per
// test: a real server, worker and browser share two cores with the other test files.
vi.setConfig({ testTimeout: 180_000 });

if (chromiumMissing && !process.env.CI) console.warn(`Skipping the web client's browser tests: ${chromiumMissing}.`);

describe.runIf(chromiumMissing && process.env.CI)("the web client's browser tests", () => {
  it("need Chromium", () => {
    throw new Error(chromiumMissing);
  });
});

describe.skipIf(chromiumMissing)("the web client", () => {
  let server: ServeProcess;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    // No grace period at shutdown: the job that runs across the restart is released at once, not finished.
    [server, browser] = await Promise.all([startServe({ ATELIER_SHUTDOWN_GRACE_SECONDS: "0" }), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.dispose();
  });
  beforeEach(async () => {
    await context?.close();
    // Without animations, which only cost the CPU the server needs (the suite runs on two cores).
    context = await browser.newContext({ baseURL: server.url, viewport: { width: 1280, height: 900 }, reducedMotion: "reduce" });
    page = await context.newPage();
  });

  /** Queues a job through the API, for a test about something else than the Create view. */
  async function submit(input: Record<string, unknown>): Promise<string> {
    const { data, errors } = await server.graphql(`mutation ($input: GenerateInput!) { generate(input: $input) { id } }`, { input });
    expect(errors).toBeUndefined();
    return data.generate.id;
  }

  async function jobStatus(id: string): Promise<string> {
    return (await server.graphql(`query ($id: ID!) { job(id: $id) { status } }`, { id })).data.job.status;
  }

  /**
   * Fills a field and checks that it holds the value: a fill that lands while the view re-renders
   * the field (the size fields just after "Custom") can end up beside the old value ("64256").
   */
  async function fill(label: string, value: string): Promise<void> {
    const field = page.getByLabel(label, { exact: true });
    await expect
      .poll(async () => {
        if ((await field.inputValue()) !== value) await field.fill(value);
        return field.inputValue();
      })
      .toBe(value);
  }

  /** Waits until a sample's progress bar shows a step between the first and the last: the job runs. */
  async function waitUntilRunning(): Promise<void> {
    const samples = page.getByRole("progressbar", { name: /^Sample \d+ progress$/ });
    const values = () => samples.evaluateAll((bars) => bars.map((bar) => Number(bar.getAttribute("aria-valuenow"))));
    // Failing, it says what the bars and the page showed last.
    const state = async () => {
      const now = await values();
      return now.some((value) => value > 0 && value < 100) ? "running" : `bars at ${JSON.stringify(now)}; the page: ${(await page.locator("main").textContent())?.slice(0, 200)}`;
    };
    await expect.poll(state, { timeout: 30_000 }).toBe("running");
  }

  it("generates two samples from the Create view: the progress bars move, the previews change, the images arrive ranked with scores", async () => {
    await page.addInitScript({ path: fileURLToPath(new URL("./record-live-values.js", import.meta.url)) });
    await page.goto("/");
    await page.getByLabel("Prompt", { exact: true }).fill(PROMPT);
    await fill("Samples", "2");
    // About 7 s of work on a quiet 2-core machine (128 px and 40 steps: 1.6 s), so the job's page,
    // open within a second, sees it run.
    await fill("Steps", "80");
    await page.getByLabel("Scheduler").selectOption("EULER");
    await page.getByText("Custom", { exact: true }).click();
    await fill("Width", "256");
    await fill("Height", "256");
    await captureView(page, "create");

    await page.getByRole("button", { name: "Generate" }).click();
    // On the job's page, or else what the Create view says instead (its alert, the button's state).
    // allTextContents does not wait: textContent would wait 30 s for a Create view that the
    // navigation has just removed.
    const where = async () =>
      /\/jobs\/[0-9a-f-]{36}$/.test(page.url()) ? "the job's page" : `still on ${page.url()}: ${(await page.locator(".submit-row").allTextContents()).join(" ")}`;
    await expect.poll(where, { timeout: 60_000 }).toBe("the job's page");
    await waitUntilRunning();
    await page.getByText("Finished in").waitFor({ timeout: 60_000 });

    const seen = (await page.evaluate("window.seen")) as Record<string, string[]>;
    for (const sample of ["Sample 1", "Sample 2"]) {
      const values = seen[`${sample} progress`]!.map(Number);
      expect(values.some((value) => value > 0 && value < 100), `${sample} moved through its steps: ${values}`).toBe(true);
      expect(values.at(-1)).toBe(100);
      expect(new Set(seen[`preview ${sample.toLowerCase()}`]).size, `${sample}'s preview changed`).toBeGreaterThan(1);
    }
    expect(seen["Job progress"]!.map(Number).at(-1)).toBe(100);

    // The images, best first, each with its rank and CLIP score, as the API ranked them.
    const jobId = page.url().split("/").at(-1)!;
    const { data } = await server.graphql(`query ($id: ID!) { job(id: $id) { images { rank clipScore } } }`, { id: jobId });
    const cards = page.getByRole("article");
    expect(await cards.count()).toBe(2);
    for (const [index, image] of (data.job.images as { rank: number; clipScore: number }[]).entries()) {
      await expect.poll(() => cards.nth(index).locator(".rank-badge").textContent()).toBe(`#${image.rank}`);
      expect(await cards.nth(index).getByTitle("CLIP score", { exact: false }).textContent()).toBe(`CLIP ${image.clipScore.toFixed(2)}`);
    }
    expect(await page.getByRole("img", { name: /^CLIP scores: #1 / }).count()).toBe(1);
    await captureView(page, "job");

    // The job's URL, reloaded and opened afresh, shows the same job.
    await page.reload();
    await page.getByText("Finished in").waitFor();
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe(PROMPT);
    const fresh = await context.newPage();
    await fresh.goto(`/jobs/${jobId}`);
    await fresh.getByText("Finished in").waitFor();
    expect(await fresh.getByRole("article").count()).toBe(2);
  });

  it("runs a job again with the same seed, and deletes one of its images", async () => {
    const { data } = await server.graphql(`{ jobs(first: 1) { edges { node { id seed } } } }`);
    const original = data.jobs.edges[0].node;
    await page.goto(`/jobs/${original.id}`);
    await page.getByRole("button", { name: "Run again with the same seed" }).click();
    await page.waitForURL((url) => url.pathname.startsWith("/jobs/") && !url.pathname.endsWith(original.id));
    await page.getByText("Finished in").waitFor({ timeout: 60_000 });
    const rerunId = page.url().split("/").at(-1)!;
    const images = async (id: string) => (await server.graphql(`query ($id: ID!) { job(id: $id) { seed images { sha256 } } }`, { id })).data.job;
    const [before, after] = [await images(original.id), await images(rerunId)];
    expect(after.seed).toBe(original.seed);
    expect(after.images.map((image: { sha256: string }) => image.sha256).sort()).toEqual(before.images.map((image: { sha256: string }) => image.sha256).sort());

    // Deleting asks for a second press; the job keeps one image, ranked first.
    await page.getByRole("article").nth(1).getByRole("button", { name: /^Delete sample \d$/ }).click();
    await page.getByRole("button", { name: "Confirm delete" }).click();
    await expect.poll(() => page.getByRole("article").count()).toBe(1);
    expect((await images(rerunId)).images).toHaveLength(1);
    await expect.poll(() => page.getByRole("article").locator(".rank-badge").textContent()).toBe("#1");
  });

  it("shows the API's validation message beside the field it concerns", async () => {
    await page.goto("/");
    await page.getByLabel("Prompt", { exact: true }).fill("too many");
    await page.getByLabel("Samples").fill("99");
    // Ctrl+Enter submits, from the prompt too.
    await page.getByLabel("Prompt", { exact: true }).press("Control+Enter");
    const samples = page.locator(".field", { has: page.getByLabel("Samples") });
    await samples.locator(".field-error").getByText("Must be a whole number between 1 and 16").waitFor();
    expect(await page.getByLabel("Samples").getAttribute("aria-invalid")).toBe("true");
    expect(await page.getByRole("alert").textContent()).toContain("see the messages beside them");
    expect(new URL(page.url()).pathname).toBe("/");
    await captureView(page, "create-invalid");
  });

  it("finds a prompt by a misspelled word and opens its gallery, ranked, and an image with all its metadata", async () => {
    await page.goto("/");
    await page.getByRole("navigation").getByRole("link", { name: "Gallery" }).click();
    await page.getByRole("combobox", { name: "Search prompts" }).fill("lighthuose at dusk");
    await page.getByRole("option", { name: new RegExp(PROMPT) }).waitFor();
    await captureView(page, "search");
    await page.getByRole("combobox", { name: "Search prompts" }).press("Enter");
    await page.waitForURL((url) => url.pathname === "/gallery" && url.searchParams.get("prompt") === PROMPT);

    const items = page.getByRole("list", { name: "Images" }).getByRole("button");
    await items.first().waitFor();
    const labels = await items.evaluateAll((buttons) => buttons.map((button) => button.getAttribute("aria-label")!));
    const scores = labels.map((label) => Number(/CLIP score ([\d.]+)/.exec(label)![1]));
    expect(scores.length).toBeGreaterThanOrEqual(2);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(await items.first().locator("img").getAttribute("src")).toMatch(/^\/images\/[0-9a-f]{64}\.webp$/);
    await captureView(page, "gallery");

    await items.first().click();
    const dialog = page.getByRole("dialog", { name: PROMPT });
    await dialog.waitFor();
    for (const term of ["CLIP score", "Rank in its job", "Seed", "Steps", "Scheduler", "Guidance scale", "Size", "Model", "Waited", "Ran"]) {
      await dialog.getByText(term, { exact: true }).waitFor();
    }
    expect(await dialog.getByRole("link", { name: "Download PNG" }).getAttribute("href")).toMatch(/^\/images\/[0-9a-f]{64}\.png$/);
    expect(new URL(page.url()).searchParams.get("image")).toMatch(/^[0-9a-f-]{36}$/);
    await captureView(page, "image");
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
  });

  it("loads the next page of a gallery as its end scrolls into view", async () => {
    const prompt = "a field of sunflowers";
    for (let job = 0; job < 2; job++) await submit({ prompt, samples: 16, steps: 1, scheduler: "EULER" });
    await expect.poll(async () => (await server.graphql(`{ gallery(prompt: "${prompt}") { totalCount } }`)).data.gallery.totalCount, { timeout: 30_000 }).toBe(32);
    // On a phone the first page is taller than the screen, so the next waits for a scroll.
    await page.setViewportSize({ width: 375, height: 812 });
    await page.goto(`/gallery?${new URLSearchParams({ prompt })}`);
    const items = page.getByRole("list", { name: "Images" }).getByRole("button");
    await expect.poll(() => items.count()).toBe(24);
    await page.getByRole("button", { name: "Load more" }).scrollIntoViewIfNeeded();
    await expect.poll(() => items.count()).toBe(32);
    expect(await page.getByRole("button", { name: "Load more" }).count()).toBe(0);
  });

  it("cancels a running job and says so", async () => {
    const id = await submit({ prompt: "a slow cancelled job", samples: 2, steps: 150, width: 256, height: 256, scheduler: "EULER" });
    await page.goto(`/jobs/${id}`);
    await waitUntilRunning();
    await captureView(page, "job-running");
    await page.getByRole("button", { name: "Cancel" }).click();
    await page.getByText(/^Cancelled\./).waitFor();
    expect(await page.locator(".job-header .status").textContent()).toBe("Cancelled");
    expect(await page.getByRole("button", { name: "Cancel" }).count()).toBe(0);
    expect(await jobStatus(id)).toBe("CANCELED");
    await captureView(page, "job-cancelled");
  });

  it("lists the recent jobs, newest first, with their status", async () => {
    await page.goto("/jobs");
    const rows = page.getByRole("main").getByRole("listitem");
    await rows.first().waitFor();
    expect(await rows.first().textContent()).toMatch(/^a slow cancelled job.*Cancelled$/);
    expect(await rows.nth(1).textContent()).toMatch(/^a field of sunflowers.*Done$/);
    await captureView(page, "jobs");
  });

  it("reconnects after the server restarts, and follows the job to its end", async () => {
    const id = await submit({ prompt: "a job across a restart", samples: 1, steps: 60, width: 256, height: 256, scheduler: "EULER" });
    await page.goto(`/jobs/${id}`);
    await waitUntilRunning();
    await server.stop();
    await page.getByText("Connection to the server lost. Reconnecting…").waitFor();
    await server.restart();
    // The worker that stopped released the job; the new one runs it again, and the page, never reloaded, follows.
    await page.getByText("Finished in").waitFor({ timeout: 60_000 });
    expect(await page.getByRole("progressbar", { name: "Sample 1 progress" }).getAttribute("aria-valuenow")).toBe("100");
    await page.getByText("Connection to the server lost. Reconnecting…").waitFor({ state: "detached" });
  });
});
