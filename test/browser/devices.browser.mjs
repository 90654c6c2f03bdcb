#!/usr/bin/env node
/**
 * `npm run test:browser`: the Active devices page in real headless Chromium, end to end.
 * Starts the Clerk emulator and the gateway under `wrangler dev` on free loopback ports, runs the
 * README's ten-operation walkthrough as written (test/newcomer/walkthrough.mjs), then, as its
 * devices walkthrough says: `/` leads to the devices page → sign in as alice → her devices, "This
 * device" marked, the walkthrough's changes shown (its Firefox gone, its API-created session named
 * as such) → the README's iPhone-token block answers 200 → sign out her iPhone with the keyboard
 * through the confirmation dialog → it is gone at once, and stays gone on reload → the README's
 * curl, run again, answers 401. Screenshots go to test-results/browser/.
 *
 * Needs Debian's chromium (`apt-get install -y chromium`; CHROMIUM_PATH overrides the path).
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { chromium } from "playwright-core";
import { freePort, startDevServers } from "../../scripts/dev-servers.mjs";
import { runDevicesTokenBlock, runOperationsWalkthrough } from "../newcomer/walkthrough.mjs";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const OUT = "test-results/browser";
const STEP_TIMEOUT_MS = 20_000;
const DESKTOP_UA =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";

const log = (message) => console.log(`  ${message}`);
const started = Date.now();
let servers;
let browser;
let shell;
const output = [];

// The whole run is bounded: a hung step fails the test instead of CI.
const guard = setTimeout(() => {
  console.error("browser test: timed out after 240 s");
  process.exitCode = 1;
  Promise.resolve(browser?.close()).finally(() => servers?.stop().finally(() => process.exit(1)));
}, 240_000);

try {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install -y chromium`);
  await mkdir(OUT, { recursive: true });

  // A second attempt on fresh ports: a port found free can be taken before wrangler binds it.
  for (let attempt = 1; !servers; attempt++) {
    const [gatewayPort, emulatorPort] = [await freePort(), await freePort()];
    log(`starting the emulator (:${emulatorPort}) and the gateway (:${gatewayPort}) under wrangler dev`);
    try {
      servers = await startDevServers({
        gatewayPort,
        emulatorPort,
        onOutput: (name, line) => output.push(`[${name}] ${line}`),
        onExit: (name, code) => output.push(`[${name}] exited ${code}`),
        timeoutMs: 90_000,
      });
    } catch (error) {
      if (attempt >= 2) throw error;
      log(`${error.message}; retrying once\n${output.splice(0).join("\n")}`);
    }
  }
  const { gatewayUrl, emulatorUrl } = servers;

  // 0. The README's ten operations first, as a reader would before opening the page.
  const readmeGateway = gatewayUrl.replace("127.0.0.1", "localhost");
  log("run the README's ten-operation walkthrough as written");
  const walk = await runOperationsWalkthrough({ gatewayUrl: readmeGateway, emulatorUrl });
  shell = walk.shell;
  log(`walkthrough done: ${walk.vars.LAPTOP} revoked, ${walk.vars.CREATED} created, ${walk.vars.SID} revoked`);

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
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
    timeout: 60_000,
  });
  const context = await browser.newContext({ viewport: { width: 1100, height: 820 }, userAgent: DESKTOP_UA });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()}`);
  });

  // 1. `/` leads to the devices page; sign in through it.
  log("open /, follow it to the devices page and sign in as alice");
  await page.goto(`${gatewayUrl}/`);
  for (const name of ["Active devices", "API reference", "OpenAPI document", "Health"]) {
    assert.equal(await page.getByRole("link", { name, exact: true }).count(), 1, `/ links "${name}"`);
  }
  await page.screenshot({ path: `${OUT}/00-home.png` });
  await page.getByRole("link", { name: "Active devices", exact: true }).click();
  await page.waitForURL(`${gatewayUrl}/devices`);
  const userSelect = page.getByLabel("User");
  await userSelect.locator("option[value=alice]").waitFor({ state: "attached" });
  await userSelect.selectOption("alice");
  await page.getByRole("button", { name: "Sign in" }).click();

  // 2. The list after the walkthrough: the Mac and the iPhone (the Firefox was revoked in step 3),
  // the session step 5 created (an API client, not a browser), and this browser, which is marked.
  const items = page.locator("#devices > li");
  await page.getByText("Signed in as alice").waitFor();
  await page.locator("#devices > li").nth(3).waitFor();
  assert.equal(await items.count(), 4, "Mac, iPhone, the walkthrough's created session, this browser");
  assert.equal(await items.filter({ hasText: "Firefox" }).count(), 0, "the Firefox revoked in step 3 is gone");
  const created = page.locator(`#devices > li[data-session-id="${walk.vars.CREATED}"]`);
  assert.match(await created.locator("h3").innerText(), /^API client: clerk-session-gateway 0\.1$/);
  const current = page.locator("#devices > li.current");
  await assert.doesNotReject(current.getByText("This device").waitFor());
  assert.equal(await current.getByRole("button").count(), 0, "this device has no sign-out button");
  const phone = items.filter({ hasText: "iPhone" });
  assert.equal(await phone.count(), 1);
  assert.match(await phone.innerText(), /Safari 18 on iPhone[\s\S]*Last active/);
  const phoneId = await phone.getAttribute("data-session-id");
  assert.match(phoneId ?? "", /^sess_/);
  await page.screenshot({ path: `${OUT}/01-devices.png`, fullPage: true });
  log(`listed ${await items.count()} devices; this device marked; iPhone is ${phoneId}`);

  // The README's block: the iPhone's own token works before it is signed out (200).
  const curlAgain = await runDevicesTokenBlock(shell);
  log("the README's iPhone-token curl: 200");

  // 3. Sign the iPhone out with the keyboard, through the confirmation dialog.
  log("sign the iPhone out (keyboard only), confirm in the dialog");
  const revoke = phone.getByRole("button", { name: /^Sign out Safari 18 on iPhone/ });
  await revoke.focus();
  await page.keyboard.press("Enter");
  const dialog = page.getByRole("dialog", { name: "Sign out this device?" });
  await dialog.waitFor();
  assert.match(await dialog.innerText(), /iPhone/);
  await page.screenshot({ path: `${OUT}/02-confirm.png` });
  // Cancel has focus first (a safe default); Tab moves to the destructive choice.
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Cancel");
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Sign out device");
  await page.keyboard.press("Enter");

  // 4. Gone at once, announced, and still gone after a reload (from the gateway, not the page).
  await page.locator(`#devices > li[data-session-id="${phoneId}"]`).waitFor({ state: "detached" });
  await page.getByRole("status").filter({ hasText: "was signed out" }).waitFor();
  assert.equal(await items.count(), 3);
  assert.equal(await page.locator("#error").isVisible(), false, "no error shown");
  await page.screenshot({ path: `${OUT}/03-revoked.png`, fullPage: true });
  await page.reload();
  await page.locator("#devices > li").nth(2).waitFor();
  await page.getByRole("status").filter({ hasText: "3 active devices" }).waitFor();
  assert.equal(await page.locator(`#devices > li[data-session-id="${phoneId}"]`).count(), 0);
  log("the iPhone is gone from the list, and stays gone after a reload");

  // 5. "Run the curl again: 401": the iPhone's token is refused now, though it has not expired.
  assert.equal(await curlAgain(), "401", "the revoked device's token is refused");
  log("the README's curl, run again: 401");

  // 6. Errors are shown plainly, and nothing changes: Clerk fails every revoke for a moment.
  assert.deepEqual(problems, [], "the page logged errors before the injected fault");
  const fault = await fetch(`${emulatorUrl}/__emulator/faults`, {
    method: "POST",
    body: JSON.stringify({ method: "POST", path: "/v1/sessions/*/revoke", mode: "503" }),
  });
  assert.equal(fault.status, 200);
  const mac = items.filter({ hasText: "Macintosh" });
  await mac.getByRole("button", { name: /^Sign out Chrome/ }).click();
  await dialog.getByRole("button", { name: "Sign out device" }).click();
  const alert = page.getByRole("alert");
  await alert.filter({ hasText: "Clerk is not answering" }).waitFor();
  assert.equal(await mac.count(), 1, "a failed revoke leaves the device listed");
  assert.equal(await mac.getByRole("button").isEnabled(), true, "and its button usable again");
  await page.screenshot({ path: `${OUT}/06-error.png`, fullPage: true });
  await fetch(`${emulatorUrl}/__emulator/faults`, { method: "DELETE" });
  problems.splice(0); // the browser logs the failed request (HTTP 503) as a console error: expected here
  log(`a failing revoke is shown plainly: "${(await alert.innerText()).trim()}"`);

  // 7. Usable on a phone: same page, narrow viewport, buttons full width and reachable.
  const phoneContext = await browser.newContext({
    viewport: { width: 390, height: 844 },
    isMobile: true,
    hasTouch: true,
    deviceScaleFactor: 2,
  });
  phoneContext.setDefaultTimeout(STEP_TIMEOUT_MS);
  const mobile = await phoneContext.newPage();
  mobile.on("pageerror", (error) => problems.push(`page error (phone): ${error.message}`));
  await mobile.goto(`${gatewayUrl}/devices`);
  await mobile.getByLabel("User").locator("option[value=bob]").waitFor({ state: "attached" });
  await mobile.getByLabel("User").selectOption("bob");
  await mobile.getByRole("button", { name: "Sign in" }).tap();
  await mobile.locator("#devices > li.current").waitFor();
  const overflow = await mobile.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  assert.equal(overflow, false, "no horizontal scrolling on a phone");
  await mobile.screenshot({ path: `${OUT}/04-phone.png`, fullPage: true });
  log("phone viewport: no horizontal scroll");

  // 8. Every button and form control has an accessible name; no script or CSP errors.
  const unnamed = await page.evaluate(() =>
    [...document.querySelectorAll("button, select, input")]
      .filter(
        (node) =>
          !node.closest("[hidden]") &&
          !(node.getAttribute("aria-label") || node.textContent?.trim() || node.labels?.length),
      )
      .map((node) => node.outerHTML),
  );
  assert.deepEqual(unnamed, [], "controls without an accessible name");
  assert.deepEqual(problems, [], "the page logged errors");

  // 9. The API reference renders the document and its "Try it" reaches the gateway.
  const docs = await context.newPage();
  await docs.goto(`${gatewayUrl}/docs`);
  await docs.getByText("/v1/me/sessions/active").first().waitFor();
  const operations = await docs.locator("details.op").count();
  const spec = await (await fetch(`${gatewayUrl}/openapi.json`)).json();
  const documented = Object.values(spec.paths).flatMap((methods) => Object.keys(methods)).length;
  assert.ok(documented >= 12, "the document lists the ten operations, /healthz and more");
  assert.equal(operations, documented, "every operation of /openapi.json is listed");
  await docs.locator("details#health > summary").click();
  await docs.locator("details#health").getByRole("button", { name: "Send GET" }).click();
  await docs.locator("details#health pre").filter({ hasText: "HTTP 200" }).waitFor();
  // Descriptions' `code` spans are rendered as <code>, never left as backticks; enumerated
  // parameters are choices.
  const list = docs.locator("details#listSessions");
  await list.locator("> summary").click();
  assert.equal(await list.locator("p code", { hasText: "status=active" }).count(), 1, "`status=active` is <code>");
  const prose = await docs.locator("details.op p, main > p.intro").allInnerTexts();
  assert.deepEqual(
    prose.filter((text) => text.includes("`")),
    [],
    "no raw backticks in descriptions",
  );
  const status = list.getByLabel("status (query)");
  assert.equal(await status.evaluate((node) => node.tagName), "SELECT");
  // Clerk's statuses are stated once (src/clerk/schemas.ts); the page offers exactly the document's.
  const statuses = spec.paths["/v1/sessions"].get.parameters.find((p) => p.name === "status").schema.enum;
  assert.ok(statuses.includes("active") && statuses.includes("revoked"), "the document enumerates Clerk's statuses");
  assert.deepEqual(await status.locator("option").allInnerTexts(), ["(not sent)", ...statuses]);
  assert.equal(await list.getByLabel("paginated (query)").evaluate((node) => node.tagName), "SELECT");
  // Response bodies are shown as types, a oneOf as its alternatives, each a link that opens the
  // component's entry; every component has one (web/schema-view.ts; test/docs-schemas.test.ts).
  assert.equal(
    await list.locator(".body-type").first().innerText(),
    "Body, one of: SessionList | PaginatedSessionList",
  );
  const dangling = await docs
    .locator("ul.responses > li")
    .evaluateAll((items) => items.filter((li) => /→\s*$/.test(li.textContent ?? "")).length);
  assert.equal(dangling, 0, "no response ends in a bare arrow");
  assert.equal(
    await docs.locator("#schemas details.schema").count(),
    Object.keys(spec.components.schemas).length,
    "every component schema is shown",
  );
  // PaginatedSessionList is an object (a property table); SessionList, an array, shows its type instead.
  await list.locator(".body-type").first().getByRole("link", { name: "PaginatedSessionList", exact: true }).click();
  await docs.locator("details#schema-PaginatedSessionList[open]").waitFor();
  assert.ok(
    await docs.locator("details#schema-PaginatedSessionList table.schema").isVisible(),
    "the link opens its table",
  );
  await docs.screenshot({ path: `${OUT}/05-docs.png` });
  log(`/docs lists ${operations} operations; "Try it" works`);

  console.log(`browser test passed in ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in ${OUT}/`);
} catch (error) {
  process.exitCode = 1;
  console.error("browser test FAILED:", error);
  if (output.length > 0) console.error(`--- wrangler output (last 40 lines) ---\n${output.slice(-40).join("\n")}`);
} finally {
  clearTimeout(guard);
  shell?.close();
  await browser?.close().catch(() => {});
  await servers?.stop();
}
