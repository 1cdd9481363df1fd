// Open a flow run's page in the Prefect UI in headless Chromium, open its Artifacts tab,
// and report what the page shows (tests/e2e/test_server.py). Driven as tools/a11y/axe.mjs
// drives Chromium, with the pinned playwright-core from tools/a11y; the network beyond
// 127.0.0.1 is never used.
// Usage: node prefect_ui.mjs UI_URL FLOW_RUN_ID ARTIFACT_KEY TEXT
//   prints {"tab": bool, "key": bool, "text": bool, "title": "..."}
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { dirname, resolve } from "node:path";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(resolve(here, "..", "tools", "a11y", "package.json"));
const { chromium } = require("playwright-core");

const [ui, runId, key, text] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking"],
});
const found = { tab: false, key: false, text: false, title: "" };
try {
  const page = await browser.newPage();
  await page.route("**/*", (route) => {
    const url = new URL(route.request().url());
    return url.hostname === "127.0.0.1" ? route.continue() : route.abort();
  });
  await page.goto(`${ui}/runs/flow-run/${runId}`, { waitUntil: "networkidle" });
  // The UI first titles the page "Flow Run • Prefect Server" and only once the run has
  // loaded "Flow Run: <name>", some time after the network is idle on a busy machine:
  // wait for the second form (the colon), not any title that starts "Flow Run".
  await page.waitForFunction(() => document.title.startsWith("Flow Run: "), null,
                             { timeout: 60000 }).catch(() => {});
  found.title = await page.title();
  const tab = page.getByRole("tab", { name: /Artifacts/ }).or(page.getByText("Artifacts", { exact: true })).first();
  await tab.click({ timeout: 30000 });
  found.tab = true;
  await page.getByText(key, { exact: true }).first().waitFor({ timeout: 30000 });
  found.key = true;
  await page.getByText(key, { exact: true }).first().click();
  await page.getByText(text).first().waitFor({ timeout: 30000 });
  found.text = true;
} catch (err) {
  found.error = String(err).slice(0, 500);
} finally {
  await browser.close();
}
console.log(JSON.stringify(found));
