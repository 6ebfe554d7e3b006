// Drives the forklab explorer in Debian's headless Chromium with
// playwright-core: runs scenarios/three_nodes.yaml, serves it, opens the
// overview, clicks a block in the fork tree, sees its transactions, opens a
// payment and then its receiving address, uses the search box, checks the
// 404 page; asserts on the DOM at every step and saves screenshots. Then a
// short padded run of scenarios/simblock_compare.yaml (50 nodes, 3 blocks),
// whose overview must say which part of block relay was modelled.
//
// Usage: node tests/browser/explorer.mjs   (from the repository root)
// Env: SIM, CHROMIUM, LOG_DIR (see chromium.mjs).
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checker, launch, logDir, servedAt, sim } from "./chromium.mjs";

const check = checker("browser test");

const work = mkdtempSync(join(tmpdir(), "forklab-browser-"));
const run = join(work, "three_nodes");
execFileSync(sim, ["run", "scenarios/three_nodes.yaml", "--out", run, "--quiet", "--no-charts"], {
  stdio: "inherit",
});

// Compact relay of padded blocks: the padding's reconstruction is modelled.
const padded = join(work, "simblock_compare");
execFileSync(
  sim,
  [
    "run", "scenarios/simblock_compare.yaml", "--set", "nodes.count=50", "--set", "stop.height=3",
    "--out", padded, "--quiet", "--no-charts",
  ],
  { stdio: "inherit" },
);

const server = spawn(sim, ["serve", run, "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
const base = await servedAt(server);
const paddedServer = spawn(sim, ["serve", padded, "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
const paddedBase = await servedAt(paddedServer);

process.on("exit", () => {
  server.kill();
  paddedServer.kill();
});
const context = await launch();
let failed = false;
try {
  const page = await context.newPage();
  const shot = (name) => page.screenshot({ path: join(logDir, `${name}.png`), fullPage: true });

  // Overview: headline numbers and the fork tree with every block.
  const home = await page.goto(`${base}/`);
  check(home.status() === 200, "overview answers 200");
  check((await page.textContent("h1")).includes("three_nodes"), "overview names the run");
  check((await page.textContent("#height")).trim() === "100", "main-chain height 100 shown");
  const blocks = await page.locator("#fork-tree a.tree-block").count();
  const api = await (await page.request.get(`${base}/api/tree`)).json();
  check(blocks === api.length && blocks > 100, `fork tree draws all ${api.length} blocks`);
  const stale = await page.locator('#fork-tree a.tree-block[data-main="0"]').count();
  check(stale === api.filter((b) => !b.main_chain).length && stale > 0, `${stale} stale blocks drawn apart`);
  // three_nodes relays compact blocks with no padding: nothing modelled.
  check((await page.textContent("#block-relay td")).startsWith("compact (BIP152)"), "block relay: compact (BIP152)");
  check((await page.locator("#block-relay-modelled").count()) === 0, "no modelled line when nothing is modelled");
  await shot("1-overview");

  // Click a main-chain block that holds payments.
  const target = api.find((b) => b.main_chain && b.txs > 1 && b.height > 5);
  await Promise.all([
    page.waitForURL(`**/block/${target.hash}`),
    page.click(`#fork-tree a.tree-block[data-hash="${target.hash}"]`),
  ]);
  check((await page.textContent("#block-hash")).trim() === target.hash, "block page of the clicked block");
  const txRows = await page.locator("#txs tbody tr").count();
  check(txRows === target.txs, `block lists its ${target.txs} transactions`);
  check(await page.locator("#propagation svg").isVisible(), "propagation chart drawn");
  await shot("2-block");

  // Open a payment (not the coinbase).
  const txLink = page.locator("#txs tbody tr").nth(1).locator("a.hash").first();
  const txid = (await txLink.textContent()).trim();
  await Promise.all([page.waitForURL(`**/tx/${txid}`), txLink.click()]);
  check((await page.textContent("#txid")).trim() === txid, "transaction page opened");
  check((await page.textContent("#inputs")).includes("valid"), "input signature verdict shown");
  check((await page.locator("#tx-hex").textContent()).trim().length > 100, "raw hex shown");
  await shot("3-tx");

  // Follow its first output's address.
  const addrLink = page.locator('#outputs tbody tr a[href^="/address/"]').first();
  const addr = (await addrLink.textContent()).trim();
  await Promise.all([page.waitForURL(`**/address/${addr}`), addrLink.click()]);
  check((await page.textContent("#addr")).trim() === addr, "address page opened");
  check((await page.locator("#history tbody tr").count()) > 0, "address history listed");
  check((await page.locator("#history").textContent()).includes(txid), "history holds the payment");
  await shot("4-address");

  // Search box: a height leads to that block.
  await page.fill("#search", "42");
  await Promise.all([page.waitForURL("**/block/**"), page.press("#search", "Enter")]);
  check((await page.textContent("h1")).includes("Block 42"), "search by height");
  await shot("5-search");

  // Unknown page.
  const nope = await page.goto(`${base}/no/such/page`);
  check(nope.status() === 404, "unknown page answers 404");
  check((await page.textContent("#error-message")).includes("no such page"), "404 page explains");
  await shot("6-not-found");

  // A padded SimBlock-style run: the overview says what was modelled.
  const sb = await page.goto(`${paddedBase}/`);
  check(sb.status() === 200, "padded run's overview answers 200");
  check((await page.textContent("h1")).includes("simblock_compare"), "overview names the padded run");
  const relay = (await page.innerText("#block-relay")).replace(/\s+/g, " ");
  check(relay.includes("block relay compact (BIP152)"), `block relay line shown: ${relay.slice(0, 60)}`);
  const modelled = page.locator("#block-relay-modelled");
  check(await modelled.isVisible(), "modelled line visible");
  const said = (await modelled.innerText()).replace(/\s+/g, " ").trim();
  check(
    said === "modelled, not computed reconstruction failures of padded blocks (SimBlock's rates)",
    `modelled line reads: ${said}`,
  );
  const o = await (await page.request.get(`${paddedBase}/api/overview`)).json();
  check(
    JSON.stringify(o.block_relay.modelled) === '["compact_block_padding"]',
    "API: block_relay.modelled is [compact_block_padding]",
  );
  await modelled.scrollIntoViewIfNeeded();
  await shot("7-padded-overview");
} catch (e) {
  failed = true;
  console.error(e);
} finally {
  await context.close();
  server.kill();
  paddedServer.kill();
}
console.log(failed ? "browser test FAILED" : `browser test passed; screenshots in ${logDir}`);
process.exit(failed ? 1 : 0);
