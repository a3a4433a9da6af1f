import { fileURLToPath } from "node:url";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

// This file lives in test/ (the repository's top level is fixed); everything resolves from the root.
const root = fileURLToPath(new URL("..", import.meta.url));

const workerd = { compatibilityDate: "2026-04-01", compatibilityFlags: ["nodejs_compat"] };

// The stress project runs only when asked for (`npm run test:stress` = `vitest run --project stress`),
// so a plain `vitest run` (`npm test`) stays fast.
const stressRequested = process.argv.some((arg, i, all) => arg === "--project=stress" || (arg === "--project" && all[i + 1] === "stress"));

/**
 * The API through the real stack: the Worker and its Durable Objects in workerd, talking to the
 * libSQL server the project's global setup started (its URL and token injected).
 */
const apiWorker = () =>
  cloudflareTest(async ({ inject }) => ({
    wrangler: { configPath: `${root}wrangler.toml` },
    // The production Worker plus the tests' webhook receiver (served at http://receiver.test).
    main: `${root}test/support/worker.ts`,
    // Fixed test values of the deployment's secrets: OPERATOR_TOKEN (GET /v1/health/deep) and
    // SECRETS_KEK, the key stored signing secrets are sealed with (src/lib/secret-box.ts).
    miniflare: {
      bindings: {
        LIBSQL_URL: inject("libsqlUrl"),
        LIBSQL_AUTH_TOKEN: inject("libsqlAuthToken"),
        OPERATOR_TOKEN: "test-operator-token-3f9c1e7a5b2d4c6e8f0a1b3c5d7e9f1a",
        SECRETS_KEK: "test1:3q2+7wABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhs=",
      },
    },
  }));

export default defineConfig({
  root,
  test: {
    // The Worker's structured request and job lines (one per request) would drown the output;
    // test/api/telemetry.test.ts reads them from console.log itself.
    onConsoleLog: (log) => !/^\{"level":"(info|warn)","kind":"(request|job)"/.test(log),
    projects: [
      // Pure domain logic (rules, tiers, models, statistics), run inside workerd.
      {
        plugins: [cloudflareTest({ miniflare: workerd })],
        root,
        test: { name: "unit", include: ["test/unit/**/*.test.ts"] },
      },
      // The API through the real stack: the Worker and its Durable Objects in workerd,
      // talking to a real libSQL server started by the global setup.
      {
        plugins: [apiWorker()],
        root,
        test: {
          name: "api",
          include: ["test/api/**/*.test.ts"],
          globalSetup: ["test/setup/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      // The API while its database is down: its own libSQL server, which the tests kill and restart.
      {
        plugins: [apiWorker()],
        root,
        test: {
          name: "outage",
          include: ["test/outage/**/*.test.ts"],
          globalSetup: ["test/setup/outage-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      // Node-side tooling: the local libSQL server and the CLI scripts.
      {
        root,
        test: { name: "node", include: ["test/node/**/*.test.ts"], environment: "node", testTimeout: 60_000 },
      },
      // Slow reliability runs against a local stack each test starts (scripts/bench/stack.ts): full-size
      // concurrency with the crons, a soak with memory sampling.
      {
        root,
        test: {
          name: "stress",
          include: stressRequested ? ["test/stress/**/*.test.ts"] : [],
          environment: "node",
          testTimeout: 600_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
