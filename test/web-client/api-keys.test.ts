/**
 * The web client against a server that wants an API key (ATELIER_API_KEYS): it asks once, says so
 * when a key is refused, keeps the key, and sends it over HTTP and in graphql-ws's
 * connection_init, so live updates work too. Chromium and `atelier serve` as in web-client.test.ts.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { captureView, chromiumMissing, launchChromium } from "../support/browser.ts";
import { startServe, type ServeProcess } from "../support/serve-process.ts";

const KEY = "web-client-test-key-0123456789";
// As in web-client.test.ts: the test's own waits decide, not the suite's 60 s per test.
vi.setConfig({ testTimeout: 180_000 });

describe.skipIf(chromiumMissing)("the web client on a server with API keys", () => {
  let server: ServeProcess;
  let browser: Browser;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServe({ ATELIER_API_KEYS: KEY }), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.dispose();
  });

  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ baseURL: server.url, viewport: { width: 1280, height: 900 }, reducedMotion: "reduce" });
    return context.newPage();
  }

  async function answerKeyQuestion(page: Page, key: string): Promise<void> {
    const dialog = page.getByRole("dialog", { name: "This server needs an API key" });
    await dialog.waitFor();
    await dialog.getByLabel("API key").fill(key);
    await dialog.getByRole("button", { name: "Use this key" }).click();
  }

  it("asks for the key when a mutation needs one, once, and keeps it", async () => {
    const page = await newPage();
    // Queries are open: the form gets its defaults without a key.
    await page.goto("/");
    await page.getByLabel("Model").locator("option", { hasText: "demo-sd-tiny" }).waitFor({ state: "attached" });
    await page.getByLabel("Prompt", { exact: true }).fill("a key to the city");
    await page.getByLabel("Samples").fill("1");
    await page.getByLabel("Steps").fill("8");
    await page.getByRole("button", { name: "Generate" }).click();

    await page.getByRole("dialog", { name: "This server needs an API key" }).waitFor();
    await captureView(page, "api-key");
    await answerKeyQuestion(page, "not-the-right-key-at-all");
    await page.getByText("That key was not accepted.").waitFor();
    await answerKeyQuestion(page, KEY);

    // The mutation went through, and the subscription (with the key in connection_init) follows the job.
    await page.waitForURL(/\/jobs\/[0-9a-f-]{36}$/);
    await page.getByText("Finished in").waitFor({ timeout: 60_000 });
    expect(await page.evaluate("localStorage.getItem('atelier.apiKey')")).toBe(KEY);

    // After a reload, the kept key is sent: no question.
    await page.reload();
    await page.getByRole("button", { name: "Vary seed" }).click();
    await page.getByText("Finished in").waitFor({ timeout: 60_000 });
    expect(await page.getByRole("dialog").count()).toBe(0);
  });

  it("asks a visitor without a key once for live updates of a running job (the socket closed with 4403)", async () => {
    const { data } = await server.graphql(`mutation { generate(input: { prompt: "watched without a key", samples: 1, steps: 150, width: 256, height: 256, scheduler: EULER }) { id } }`, {}, KEY);
    const page = await newPage();
    await page.goto(`/jobs/${data.generate.id}`);
    await answerKeyQuestion(page, KEY);
    const progress = page.getByRole("progressbar", { name: "Sample 1 progress" });
    await expect.poll(async () => Number(await progress.getAttribute("aria-valuenow")), { timeout: 30_000 }).toBeGreaterThan(0);
    await page.getByRole("button", { name: "Cancel" }).click();
    await page.getByText(/^Cancelled\./).waitFor();
  });
});
