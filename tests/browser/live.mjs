// Drives the live lab's page in Debian's headless Chromium with
// playwright-core: starts `sim serve scenarios/three_nodes.yaml` (free
// ports), watches the clock run, pauses, steps one event and then to the
// next block, partitions the network and sees the links cut, mines on both
// sides and sees two blocks at the same height in the fork tree (the live
// event stream redraws it), heals, stops the session, and checks that
// `sim replay` reproduces it. Asserts on the DOM at every step and saves
// screenshots.
//
// Usage: node tests/browser/live.mjs   (from the repository root)
// Env: SIM, CHROMIUM, LOG_DIR (see chromium.mjs).
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checker, launch, logDir, servedAt, sim } from "./chromium.mjs";

const check = checker("live browser test");

const work = mkdtempSync(join(tmpdir(), "forklab-live-"));
const out = join(work, "session");
const server = spawn(
  sim,
  ["serve", "scenarios/three_nodes.yaml", "--port", "0", "--node-port", "0", "--speed", "5", "--no-charts", "--out", out],
  { stdio: ["ignore", "pipe", "inherit"] },
);
const exited = new Promise((ok) => server.once("exit", (c) => ok(c)));
const base = await servedAt(server);
process.on("exit", () => server.kill());

const context = await launch();
let failed = false;
const status = async (page) => (await page.request.get(`${base}/lab/status`)).json();
try {
  const page = await context.newPage();
  const shot = (name) => page.screenshot({ path: join(logDir, `live-${name}.png`), fullPage: true });
  const res = await page.goto(`${base}/`);
  check(res.status() === 200, "live page answers 200");
  await page.waitForSelector("#net g[data-node='2']");
  check((await page.textContent("#name")) === "three_nodes", "page names the scenario");
  check((await page.locator("#net g[data-node]").count()) === 3, "network view draws 3 nodes");
  check((await page.locator("#net line").count()) === 3, "full mesh: 3 links");
  const t0 = (await status(page)).clock_s;
  await page.waitForTimeout(1200);
  check((await status(page)).clock_s > t0, "simulated time runs");
  await shot("1-running");

  // Pause: the clock stops; step one event, then to the next block.
  await page.click("#pause");
  await page.waitForSelector("#clock[data-paused='true']");
  const p1 = await status(page);
  await page.waitForTimeout(500);
  const p2 = await status(page);
  check(p1.paused && p2.clock_s === p1.clock_s, "pause stops the clock");
  await page.click("#step");
  await page.waitForFunction((n) => document.querySelector("#clock").textContent.includes(`${n + 1} events`), p2.events);
  check((await status(page)).events === p2.events + 1, "step processes exactly one event");
  const blocksBefore = (await status(page)).blocks.length;
  await page.click("#stepblock");
  await page.waitForFunction(() => (document.querySelector("#log").textContent.match(/stepped/g) || []).length >= 2);
  const afterStep = await status(page);
  check(afterStep.blocks.length === blocksBefore + 1, "step to the next block mines exactly one");
  await shot("2-paused-stepped");

  // Partition [0] | [1, 2]: node 0's links are drawn cut.
  await page.fill("#groups", "[[0],[1,2]]");
  await page.click("#partition");
  await page.waitForFunction(() => document.querySelectorAll("#net line[stroke-dasharray='4 4']").length === 2);
  check(true, "partition cuts node 0's two links in the network view");
  // Run again, and mine on both sides: a fork, two blocks at one height.
  await page.click("#resume");
  await page.click("#mine0");
  await page.click("#mine1");
  await page.waitForFunction(() => {
    const hs = [...document.querySelectorAll("#tree g[data-block]")].map((g) => g.dataset.height);
    return hs.length !== new Set(hs).size;
  });
  const s = await status(page);
  check(s.nodes[0].tip !== s.nodes[1].tip, "the two sides follow different tips");
  // Node 2 hears of node 1's blocks 100 ms of simulated time later.
  await page.waitForFunction(() => {
    const f = [...document.querySelectorAll("#net g[data-node] circle")].map((c) => c.getAttribute("fill"));
    return f[0] !== f[1] && f[1] === f[2];
  }, null, { timeout: 15000 });
  check(true, "nodes coloured by the tip they follow: node 0 apart, nodes 1 and 2 alike");
  await shot("3-partitioned-fork");

  // Heal and let it run: one tip again.
  await page.click("#heal");
  await page.waitForFunction(async () => {
    const r = await (await fetch("/lab/status")).json();
    return new Set(r.nodes.map((n) => n.tip)).size === 1;
  }, null, { timeout: 30000, polling: 250 });
  check(true, "after the heal every node follows one tip");
  await page.waitForTimeout(300);
  await shot("4-healed");
  const log = await page.textContent("#log");
  check(log.includes("partition into [0] [1, 2]") && log.includes("heal every partition"), "event log shows the inputs");

  const stop = await page.request.post(`${base}/lab/stop`);
  check(stop.status() === 202, "stop accepted");
} catch (e) {
  failed = true;
  console.error(e);
} finally {
  await context.close();
}
if (!failed) {
  const code = await exited;
  check(code === 0, "sim serve wrote its output and exited 0");
  const inputs = readFileSync(join(out, "inputs.jsonl"), "utf8");
  check(inputs.includes('"action":"partition"') && inputs.includes('"action":"mine"'), "inputs.jsonl records the clicks");
  const said = execFileSync(sim, ["replay", out]).toString();
  check(said.startsWith("replay ok"), `replay: ${said.trim()}`);
}
server.kill();
console.log(failed ? "live browser test FAILED" : `live browser test passed; screenshots in ${logDir}`);
process.exit(failed ? 1 : 0);
