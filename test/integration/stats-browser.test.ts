/**
 * The stats page as an operator sees it on a phone: Debian's chromium (driven by
 * playwright-core) loads it at a phone's viewport from a running `fulcrum proxy`; the
 * FRONTEND, server and BACKEND rows are there and visible, each checked server's status
 * cell shows its check result (`L7OK/200 in Nms`, a DOWN one its Layer4 error), the
 * per-server summary shows the same within the screen's width, and the page itself does not
 * scroll sideways (only the tables' boxes do). A screenshot is saved in the test's temp
 * folder (kept with KEEP_SHOTS=1).
 *
 * chromium is a test dependency (.ci/run installs it): a missing /usr/bin/chromium fails
 * the test with a message saying so, it is never skipped silently.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, type RunningProxy, startProxy, tempDir, waitFor } from "../helpers/index.js";
import { rawClient, startUpstream, type Upstream } from "./log-fixture.js";

const CHROMIUM = "/usr/bin/chromium";

describe("stats page in a phone's browser", () => {
  const shots = tempDir("stats-browser-");
  let up: Upstream;
  let proxy: RunningProxy;
  let port = 0;

  beforeAll(async () => {
    up = await startUpstream("s1");
    port = await freePort();
    const dead = await freePort();
    proxy = await startProxy(
      [
        "defaults",
        "    mode http",
        "    timeout connect 1s",
        "    timeout client 5s",
        "    timeout server 5s",
        "listen web_proxy",
        `    bind 127.0.0.1:${port}`,
        "    stats enable",
        "    stats uri /haproxy-stats",
        "    stats refresh 10s",
        "    option httpchk HEAD /login HTTP/1.0",
        `    server webA 127.0.0.1:${up.port} check inter 200`,
        `    server webB 127.0.0.1:${dead} check inter 200 fall 1`,
        "",
      ].join("\n"),
      port,
    );
    // A few requests so the counters are not all zero.
    for (let i = 0; i < 3; i++)
      await rawClient(port, [{ write: "GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n" }]);
  });

  afterAll(async () => {
    await proxy?.stop();
    await up?.close();
    if (!process.env.KEEP_SHOTS) shots.remove();
  });

  it("shows every row and the check results at a phone's width", async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) to run this test`,
      );
    }
    const profile = tempDir("stats-browser-profile-");
    // A fresh profile: playwright passes it as --user-data-dir.
    const context = await chromium.launchPersistentContext(profile.path, {
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
    });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      const url = `http://127.0.0.1:${port}/haproxy-stats;norefresh`;
      // Both checks have run once the page shows L7OK for webA and L4CON for webB.
      await waitFor(
        async () => {
          await page.goto(url);
          const text = (await page.locator("body").textContent()) ?? "";
          return /L7OK\/200 in \d+ms/.test(text) && /L4CON/.test(text);
        },
        { timeout: 10_000, interval: 100, what: "both check results on the page" },
      );
      for (const name of ["FRONTEND", "webA", "webB", "BACKEND"]) {
        await expect(page.locator("tr", { hasText: name }).first().isVisible(), name).resolves.toBe(true);
      }
      const rowA = page.locator("tr", { hasText: "webA" }).first();
      const rowB = page.locator("tr", { hasText: "webB" }).first();
      expect(await rowA.textContent()).toMatch(/UP/);
      expect(await rowA.textContent()).toMatch(/L7OK\/200 in \d+ms/);
      expect(await rowB.textContent()).toMatch(/DOWN/);
      expect(await rowB.textContent()).toMatch(/L4CON/);
      // On a phone each server's status and check result read without scrolling sideways.
      const sumA = page.locator("ul.summary li", { hasText: "webA" });
      const sumB = page.locator("ul.summary li", { hasText: "webB" });
      expect(await sumA.isVisible()).toBe(true);
      expect(await sumA.textContent()).toMatch(/UP · L7OK\/200 in \d+ms/);
      expect(await sumB.textContent()).toMatch(/DOWN · L4CON/);
      const box = await sumA.boundingBox();
      expect(box!.x + box!.width).toBeLessThanOrEqual(390);
      // The page fits the phone's width; wide tables scroll inside their own box.
      const overflow = await page.evaluate<number>(
        "document.documentElement.scrollWidth - window.innerWidth",
      );
      expect(overflow).toBeLessThanOrEqual(1);
      const shot = join(shots.path, "stats-phone.png");
      await page.screenshot({ path: shot, fullPage: true });
      expect(existsSync(shot)).toBe(true);
    } finally {
      await context.close();
      profile.remove();
    }
  });
});
