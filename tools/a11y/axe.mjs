// Run axe-core (WCAG 2.2 A and AA rules) in headless Chromium over local HTML files.
// Usage: node axe.mjs FILE.html [...]; prints one JSON object: {file: [violations]}.
// Chromium is the system's (/usr/bin/chromium, or CHROMIUM); the network is never used.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const results = {};
try {
  const page = await browser.newPage();
  // Only the page itself: any other request would be a finding in its own right.
  await page.route("**/*", (route) =>
    route.request().url().startsWith("file:") ? route.continue() : route.abort());
  for (const file of process.argv.slice(2)) {
    await page.goto(pathToFileURL(resolve(file)).href);
    await page.addScriptTag({ content: axeSource });
    const out = await page.evaluate(async () =>
      // eslint-disable-next-line no-undef
      await axe.run(document, { runOnly: { type: "tag",
        values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] } }));
    results[file] = out.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")) }));
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(results));
