/**
 * A real browser for the web client's tests: Debian's Chromium (`apt-get install -y chromium`, as
 * .ci/run does) driven by playwright-core, never a browser Playwright downloads. Headless, without
 * the sandbox (the tests run as root) and the background services that would reach the network.
 * Each launch gets a fresh profile, and each `newContext()` its own storage (localStorage).
 *
 * Without /usr/bin/chromium the browser tests cannot run: under CI (`CI` set) that is a failure,
 * elsewhere they are skipped with the reason printed.
 */
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { expect } from "vitest";

export const CHROMIUM = "/usr/bin/chromium";

/** Why the browser tests cannot run here, or undefined when they can. */
export const chromiumMissing = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing: install Debian's Chromium with \`apt-get install -y chromium\` to run the web client's browser tests`;

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--disable-dev-shm-usage",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** The two widths every view is looked at: a phone and a desktop. */
export const WIDTHS = [1280, 375] as const;

const RESULTS = fileURLToPath(new URL("../../test-results/web-client/", import.meta.url));

/**
 * Saves the page as it is now at both widths, test-results/web-client/<name>-<width>.png (full
 * page), and checks that nothing sticks out sideways at either: at 375 px a view must fit.
 */
export async function captureView(page: Page, name: string): Promise<void> {
  const original = page.viewportSize() ?? { width: 1280, height: 900 };
  await fs.mkdir(RESULTS, { recursive: true });
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: width === 375 ? 812 : 900 });
    // From the top: in a full-page shot the sticky header stays where the page was scrolled to.
    const scrollWidth = await page.locator("html").evaluate((html) => {
      html.ownerDocument.defaultView.scrollTo(0, 0);
      return html.scrollWidth as number;
    });
    expect(scrollWidth, `${name} at ${width} px is wider than the window`).toBeLessThanOrEqual(width);
    await page.screenshot({ path: path.join(RESULTS, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize(original);
}
