// What the browser tests (explorer.mjs, live.mjs) share: their settings
// from the environment, the check that prints `ok - …`, the address a
// `sim serve` prints first, and Debian's headless Chromium launched for
// this machine (as root, on a closed network).
//
// Env: SIM (default target/release/sim), CHROMIUM (default /usr/bin/chromium),
//      LOG_DIR for screenshots (default target/browser-logs).
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

export const sim = resolve(process.env.SIM ?? "target/release/sim");
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
export const logDir = resolve(process.env.LOG_DIR ?? "target/browser-logs");
mkdirSync(logDir, { recursive: true });

// A check that throws `<test>: <what>` when `cond` is false and prints
// `ok - <what>` when it holds.
export function checker(test) {
  return (cond, what) => {
    if (!cond) throw new Error(`${test}: ${what}`);
    console.log(`ok - ${what}`);
  };
}

// The http://127.0.0.1:PORT address on the first line `server` (a spawned
// `sim serve` with piped stdout) prints.
export function servedAt(server) {
  return new Promise((ok, fail) => {
    const lines = createInterface({ input: server.stdout });
    lines.once("line", (l) => {
      const m = l.match(/http:\/\/127\.0\.0\.1:\d+/);
      m ? ok(m[0]) : fail(new Error(`no address in ${l}`));
    });
    server.once("exit", (c) => fail(new Error(`sim serve exited ${c}`)));
  });
}

// Chromium as root, on a closed network: these flags and a fresh profile.
export function launch() {
  return chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "forklab-chromium-")), {
    executablePath,
    headless: true,
    viewport: { width: 1400, height: 1000 },
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-quic",
    ],
  });
}
