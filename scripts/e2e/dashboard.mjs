#!/usr/bin/env node
/**
 * `npm run test:e2e`: the admin dashboard in a real browser.
 *
 * Starts the local stack like `npm run dev` (its own libSQL database and ports, so a running
 * developer stack is untouched), seeds the demo program with `npm run seed` (which also runs
 * the crons), takes 90 days of KPI snapshots, adds campaigns with an experiment if the seed
 * made none, then opens /admin in Debian's Chromium (driven by playwright-core), enters the
 * admin key and checks: no console errors, every chart whose data source this deployment
 * has is drawn with data, and screenshots at laptop and phone size in test-results/. Then
 * opens /docs with every other origin blocked: the API reference renders (an operation
 * title), requests nothing elsewhere and logs no error or CSP violation (test-results/docs.png).
 * Then the widget on its demo shop page (scripts/e2e/widget.mjs; test-results/widget*.png).
 * Exit code 0 when everything holds, 1 otherwise.
 *
 * Env: CHROMIUM_PATH (default /usr/bin/chromium); E2E_KEEP=1 keeps the stack running at the end;
 * E2E_BASE_URL + E2E_ADMIN_KEY + E2E_STOREFRONT_KEY test an already running, seeded stack instead;
 * E2E_ONLY=widget runs only the widget half.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { ensureCampaigns } from "./campaigns.mjs";
import { widgetInBrowser } from "./widget.mjs";

const root = fileURLToPath(new URL("../..", import.meta.url));
const resultsDir = join(root, "test-results");
const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  "--disable-sync",
  "--disable-quic",
];

const widgetOnly = process.env.E2E_ONLY === "widget";
const log = (...args) => console.log(`[e2e ${new Date().toISOString().slice(11, 19)}]`, ...args);
const failures = [];
const check = (ok, message) => {
  if (ok) log(`ok   ${message}`);
  else {
    failures.push(message);
    log(`FAIL ${message}`);
  }
};

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function run(cmd, args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(" ")} exited ${code}: ${err || out}`))));
  });
}

async function waitForHealth(base, stack, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (stack.exitCode !== null) throw new Error(`the stack exited with ${stack.exitCode}; see test-results/e2e-stack.log`);
    try {
      const res = await fetch(`${base}/health`);
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${base}/health did not answer within ${timeoutMs / 1000}s; see test-results/e2e-stack.log`);
}

/** Open /admin, sign in with the key, wait until every panel has loaded. */
async function openDashboard(page, base, key) {
  await page.goto(`${base}/admin`, { waitUntil: "load" });
  await page.locator("#admin-key").fill(key);
  await page.locator("#key-form button[type=submit]").click();
  await page.waitForSelector("body[data-state=ready]", { timeout: 60_000 });
}

async function main() {
  if (!existsSync(chromiumPath)) throw new Error(`${chromiumPath} not found: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  mkdirSync(resultsDir, { recursive: true });
  if (process.env.E2E_BASE_URL) {
    const keys = { admin: process.env.E2E_ADMIN_KEY, storefront: process.env.E2E_STOREFRONT_KEY };
    log(`testing the running stack at ${process.env.E2E_BASE_URL}`);
    return inBrowser(process.env.E2E_BASE_URL, keys);
  }
  const [dbPort, apiPort] = [await freePort(), await freePort()];
  const dbName = `e2e-${Date.now()}`;
  const base = `http://127.0.0.1:${apiPort}`;
  const libsqlUrl = `http://127.0.0.1:${dbPort}`;
  const libsqlAuthToken = randomBytes(32).toString("base64url");
  const stackLog = openSync(join(resultsDir, "e2e-stack.log"), "w");

  log(`starting the stack: api ${base}, libSQL ${libsqlUrl}, database .data/${dbName}`);
  // Its own process group, so the whole tree (tsx, wrangler, workerd, libSQL) stops together.
  // The seed writes a few thousand requests with one key: lift the per-key rate limit for this stack only.
  const stack = spawn("npx", ["tsx", "scripts/dev.ts", "--var", "RATE_LIMIT_PER_MINUTE:1000000"], {
    cwd: root,
    detached: true,
    stdio: ["ignore", stackLog, stackLog],
    env: {
      ...process.env,
      LIBSQL_PORT: String(dbPort),
      PORT: String(apiPort),
      LIBSQL_DB: dbName,
      LIBSQL_SERVER_AUTH_TOKEN: libsqlAuthToken,
      WRANGLER_SEND_METRICS: "false",
      CI: "true",
    },
  });
  try {
    await waitForHealth(base, stack);
    log("stack is up");

    const seedEnv = {
      LIBSQL_PORT: String(dbPort),
      LIBSQL_DB: dbName,
      LIBSQL_URL: libsqlUrl,
      LIBSQL_AUTH_TOKEN: libsqlAuthToken,
      PORT: String(apiPort),
    };
    const seeded = JSON.parse(
      (await run("npx", ["tsx", "scripts/seed.ts", "--members", process.env.E2E_MEMBERS ?? "400", "--api", base, "--quiet"], seedEnv))
        .trim()
        .split("\n")
        .pop(),
    );
    log(
      `seeded program ${seeded.programId} with ${seeded.members} members${process.env.E2E_KEEP === "1" ? ` (admin key ${seeded.keys.admin}, storefront key ${seeded.keys.storefront})` : ""}`,
    );
    if (!widgetOnly) {
      await run("npx", ["tsx", "scripts/e2e/kpi-history.ts", "--program", seeded.programId, "--days", "90"], seedEnv);
      log("KPI snapshots of the last 90 days taken");
      await ensureCampaigns({ base, keys: seeded.keys, log });
    }
    await inBrowser(base, seeded.keys);
  } finally {
    if (process.env.E2E_KEEP === "1") log(`E2E_KEEP=1: the stack keeps running at ${base} (process group ${stack.pid})`);
    else {
      try {
        process.kill(-stack.pid, "SIGTERM");
      } catch {
        // already gone
      }
      await new Promise((r) => (stack.exitCode !== null ? r() : stack.once("exit", r)));
      await new Promise((r) => setTimeout(r, 300));
      try {
        process.kill(-stack.pid, "SIGKILL");
      } catch {
        // the group is gone
      }
      // The database files and the seed's state file of this run.
      for (const f of readdirSync(join(root, ".data")))
        if (f.startsWith(dbName) || f === `seed-${dbName}.json`) rmSync(join(root, ".data", f), { recursive: true, force: true });
    }
  }
}

/** The browser half: sign-in, charts, console, screenshots, sign-out. */
async function inBrowser(base, keys) {
  const userDataDir = mkdtempSync(join(tmpdir(), "loyalty-e2e-chromium-"));
  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: chromiumPath,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1440, height: 900 },
      deviceScaleFactor: 1,
      // The dashboard honours reduced motion: charts draw without animation, so screenshots are final.
      reducedMotion: "reduce",
    });

    if (widgetOnly) return await widgetInBrowser({ context, base, keys, check, log, resultsDir });

    // A wrong key is refused on the sign-in form (its 401 is expected console noise, so it runs in its own tab).
    {
      const page = await context.newPage();
      await page.goto(`${base}/admin`);
      await page.locator("#admin-key").fill(keys.storefront);
      await page.locator("#key-form button[type=submit]").click();
      await page.waitForSelector("body[data-state=sign-in] #sign-in-error:not(:empty)", { timeout: 30_000 });
      check(/admin key/i.test(await page.locator("#sign-in-error").textContent()), "a storefront key is refused with a clear message");
      await page.close();
    }

    const page = await context.newPage();
    const consoleErrors = [];
    page.on("console", (msg) => {
      if (msg.type() === "error") consoleErrors.push(msg.text());
    });
    page.on("pageerror", (err) => consoleErrors.push(`page error: ${err.message}`));
    page.on("response", (res) => {
      if (res.status() >= 400) consoleErrors.push(`HTTP ${res.status()} ${res.url()}`);
    });

    await openDashboard(page, base, keys.admin);
    const overview = await (await fetch(`${base}/v1/analytics/dashboard`, { headers: { authorization: `Bearer ${keys.admin}` } })).json();
    check((await page.locator("#program-title").textContent()) === overview.program.name, "the program name is shown");

    // Path parameter names are the owners' choice: compare paths with them blanked.
    const paths = new Set(
      Object.keys((await (await fetch(`${base}/openapi.json`)).json()).paths).map((p) => p.replace(/\{[^}]+\}/g, "{}")),
    );
    const chartData = await page.evaluate(() =>
      Object.fromEntries(
        Object.entries(window.__charts).map(([name, chart]) => [
          name,
          chart.data.datasets.reduce((n, d) => n + d.data.filter((v) => v != null).length, 0),
        ]),
      ),
    );
    log("chart data points:", JSON.stringify(chartData));
    // Which charts must have data: those whose source exists on this deployment and was seeded.
    const expected = {
      tiers: true,
      stages: true,
      churn: paths.has("/v1/analytics/models") || paths.has("/v1/analytics/churn"),
      clv: paths.has("/v1/analytics/models") || paths.has("/v1/analytics/top-clv"),
      segments: paths.has("/v1/analytics/segments") || paths.has("/v1/segments"),
      kpis: paths.has("/v1/kpis"),
      tierKpis: paths.has("/v1/kpis/tiers"),
      ltvCac: paths.has("/v1/analytics/cac"),
      campaigns: overview.campaigns.length > 0,
      experiments: overview.experiments.length > 0 && paths.has("/v1/experiments/{}/results"),
      journeys: paths.has("/v1/campaigns/{}/engagement"),
    };
    for (const [name, required] of Object.entries(expected)) {
      if (required) check((chartData[name] ?? 0) > 0, `chart "${name}" is drawn with data`);
      else log(`skip chart "${name}": its data source is not on this deployment yet (the panel says so)`);
    }
    if (expected.journeys) {
      // The funnel drawn is the API's: the same steps, runs reaching each, and opens.
      const drawn = await page.evaluate(() => {
        const chart = window.__charts.journeys;
        return chart
          ? {
              campaignId: document.getElementById("chart-journeys").dataset.campaignId,
              labels: chart.data.labels,
              reached: chart.data.datasets[0].data,
              opened: chart.data.datasets[1].data,
            }
          : null;
      });
      check(drawn !== null, "the journey funnel is drawn");
      if (drawn) {
        const report = await (
          await fetch(`${base}/v1/campaigns/${drawn.campaignId}/engagement`, { headers: { authorization: `Bearer ${keys.admin}` } })
        ).json();
        const steps = report.journey.steps;
        log("journey funnel drawn:", JSON.stringify(drawn.reached), "opened:", JSON.stringify(drawn.opened));
        check(
          JSON.stringify(drawn.labels) === JSON.stringify(steps.map((s) => `${s.stepId} (${s.type})`)),
          "the funnel's steps are the journey's",
        );
        check(
          JSON.stringify(drawn.reached) === JSON.stringify(steps.map((s) => s.reached)) && drawn.reached.some((n) => n > 0),
          `runs reaching each step equal the API's (${steps.map((s) => s.reached).join(", ")})`,
        );
        check(
          JSON.stringify(drawn.opened) === JSON.stringify(steps.map((s) => (s.messages ? s.messages.opened : null))),
          "opens per send step equal the API's",
        );
        const cells = await page.locator("#table-journeys tbody tr").first().locator("td").allTextContents();
        check(
          Number(cells[1]?.replace(/\D/g, "")) === report.journey.runs.entered,
          `the journeys table shows the API's entered runs (${report.journey.runs.entered})`,
        );
      }
    }
    // Per-tier KPIs: the numbers drawn (chart and table) are the API's for the latest snapshot day.
    if (paths.has("/v1/kpis/tiers")) {
      const from = new Date(Date.now() - 90 * 86_400_000).toISOString().slice(0, 10);
      const series = await (
        await fetch(`${base}/v1/kpis/tiers?from=${from}`, { headers: { authorization: `Bearer ${keys.admin}` } })
      ).json();
      const latest = series.data.at(-1);
      check(Boolean(latest?.tiers.length), "the API has per-tier KPIs for the seeded program");
      if (latest) await tierKpisDrawnAsServed(page, latest);
    }
    if (paths.has("/v1/analytics/cac")) await ltvCacDrawnAsServed(page, base, keys);
    const emptyNotes = await page.locator(".empty").allTextContents();
    if (emptyNotes.length) log("panels without data:", JSON.stringify(emptyNotes));
    const statValues = await page.locator(".stat .value").allTextContents();
    check(statValues.length >= 5 && statValues.every((v) => v.trim().length > 0), `headline figures shown (${statValues.join(" | ")})`);
    check(
      statValues.some((v) => v.includes("$")),
      "money is formatted in the program currency",
    );

    await page.screenshot({ path: join(resultsDir, "dashboard.png"), fullPage: true });
    log("screenshot test-results/dashboard.png");

    // Phone size: same tab (the key is in sessionStorage), reloaded at 390×844.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload({ waitUntil: "load" });
    await page.waitForSelector("body[data-state=ready]", { timeout: 60_000 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    check(overflow <= 0, `no horizontal scrolling on a phone (overflow ${overflow}px)`);
    await page.screenshot({ path: join(resultsDir, "dashboard-phone.png"), fullPage: true });
    log("screenshot test-results/dashboard-phone.png");

    check(consoleErrors.length === 0, `no console errors${consoleErrors.length ? `: ${consoleErrors.join(" | ")}` : ""}`);

    // Sign out forgets the key.
    await page.locator("#sign-out").click();
    check(
      (await page.evaluate(() => sessionStorage.length)) === 0 && (await page.locator("#sign-in").isVisible()),
      "sign out clears the key and shows the form",
    );

    await apiReference(context, base);
    await widgetInBrowser({ context, base, keys, check, log, resultsDir });
  } finally {
    await context?.close().catch(() => {});
    rmSync(userDataDir, { recursive: true, force: true });
  }
}

/**
 * The Tier performance panel against the API's latest per-tier snapshot: chart labels and both
 * money series (drawn in major units: compared to the cent), and the table's members and moves.
 */
async function tierKpisDrawnAsServed(page, latest) {
  const drawn = await page.evaluate(() => {
    const chart = window.__charts.tierKpis;
    if (!chart) return null;
    const rows = [...document.querySelectorAll("#table-tier-kpis tbody tr")].map((tr) => [...tr.cells].map((td) => td.textContent.trim()));
    return { labels: chart.data.labels, datasets: chart.data.datasets.map((d) => ({ label: d.label, data: d.data })), rows };
  });
  check(drawn !== null, "the per-tier KPI chart is drawn");
  if (!drawn) return;
  const names = latest.tiers.map((t) => t.tierName);
  check(JSON.stringify(drawn.labels) === JSON.stringify(names), `per-tier chart labels are the API's tiers (${names.join(", ")})`);
  const sameMoney = (series, key) =>
    latest.tiers.every((t, i) => {
      const api = t.figures[key];
      const v = series?.data[i];
      return api == null ? v == null : v != null && Math.abs(v * 100 - api) < 0.5;
    });
  const [spend, aov] = drawn.datasets;
  check(sameMoney(spend, "spendPerMember30d"), `spend per member drawn equals the API's (${JSON.stringify(spend?.data)})`);
  check(sameMoney(aov, "aov30d"), `AOV drawn equals the API's (${JSON.stringify(aov?.data)})`);
  const digits = (text) => Number(String(text).replace(/[^0-9]/g, ""));
  const pair = (text) => String(text).split("/").map(digits);
  const samePair = (text, a, b) => JSON.stringify(pair(text)) === JSON.stringify([a, b]);
  const tableMatches = latest.tiers.every((t, i) => {
    const row = drawn.rows[i] ?? [];
    const f = t.figures;
    return (
      row[0] === t.tierName &&
      digits(row[1]) === f.members &&
      samePair(row[6], f.upgrades.in, f.upgrades.out) &&
      samePair(row[7], f.downgrades.in, f.downgrades.out)
    );
  });
  check(
    tableMatches,
    `per-tier table members and moves equal the API's (${JSON.stringify(drawn.rows.map((r) => [r[0], r[1], r[6], r[7]]))})`,
  );
}

/** The LTV:CAC panel against GET /v1/analytics/cac for the same 12 months: channels, LTV and CAC drawn, ratios in the table. */
async function ltvCacDrawnAsServed(page, base, keys) {
  const month = (back) => {
    const d = new Date();
    return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - back, 1)).toISOString().slice(0, 7);
  };
  const cac = await (
    await fetch(`${base}/v1/analytics/cac?from=${month(11)}&to=${month(0)}`, { headers: { authorization: `Bearer ${keys.admin}` } })
  ).json();
  const channels = cac.channels.filter((c) => c.channel !== "unattributed" && (c.newMembers > 0 || c.spendMinor > 0));
  check(
    channels.some((c) => c.ltvToCac != null),
    "the API has an LTV:CAC for a seeded channel",
  );
  const drawn = await page.evaluate(() => {
    const chart = window.__charts.ltvCac;
    if (!chart) return null;
    const rows = [...document.querySelectorAll("#table-ltv-cac tbody tr")].map((tr) => [...tr.cells].map((td) => td.textContent.trim()));
    return { labels: chart.data.labels, datasets: chart.data.datasets.map((d) => d.data), rows };
  });
  check(drawn !== null && drawn.labels.length === channels.length, `the LTV:CAC chart is drawn for ${channels.length} channels`);
  if (!drawn) return;
  const same = (values, key) =>
    channels.every((c, i) => (c[key] == null ? values[i] == null : values[i] != null && Math.abs(values[i] * 100 - c[key]) < 0.5));
  check(same(drawn.datasets[0], "ltvMinor"), `LTV drawn equals the API's (${JSON.stringify(drawn.datasets[0])})`);
  check(same(drawn.datasets[1], "cacMinor"), `CAC drawn equals the API's (${JSON.stringify(drawn.datasets[1])})`);
  const ratioShown = (text) => (text === "—" ? null : Number(text.split(":")[0].replace(/[^0-9.]/g, "")));
  check(
    channels.every((c, i) => {
      const shown = ratioShown(drawn.rows[i]?.[5] ?? "—");
      return c.ltvToCac == null ? shown == null : shown != null && Math.abs(shown - c.ltvToCac) < 0.006;
    }),
    `LTV:CAC in the table equals the API's (${JSON.stringify(drawn.rows.map((r) => [r[0], r[5]]))})`,
  );
}

/** /docs offline: only this origin is reachable, and the reference still renders its operations. */
async function apiReference(context, base) {
  const page = await context.newPage();
  const offOrigin = [];
  const problems = [];
  const origin = new URL(base).origin;
  await page.route("**/*", (route) => {
    if (new URL(route.request().url()).origin === origin) return route.continue();
    offOrigin.push(route.request().url());
    return route.abort();
  });
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(msg.text());
  });
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  await page.goto(`${base}/docs`, { waitUntil: "load" });
  const doc = await (await fetch(`${base}/openapi.json`)).json();
  const title = doc.paths["/health"].get.summary;
  const heading = page.locator("h3", { hasText: title }).first();
  const rendered = await heading.waitFor({ timeout: 60_000 }).then(
    () => true,
    () => false,
  );
  check(rendered, `/docs renders the reference with only ${origin} reachable (operation "${title}" shown)`);
  if (rendered) await heading.scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(resultsDir, "docs.png") });
  log("screenshot test-results/docs.png");
  check(offOrigin.length === 0, `/docs requests nothing from elsewhere${offOrigin.length ? `: ${offOrigin.join(" ")}` : ""}`);
  check(problems.length === 0, `/docs has no console errors or CSP violations${problems.length ? `: ${problems.join(" | ")}` : ""}`);
  await page.close();
}

try {
  await main();
} catch (err) {
  failures.push(String(err?.stack ?? err));
  log(`FAIL ${err?.stack ?? err}`);
}
if (failures.length) {
  log(`${failures.length} check(s) failed`);
  process.exit(1);
}
log("dashboard and widget e2e passed");
process.exit(0);
