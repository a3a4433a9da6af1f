import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

const workerd = { compatibilityDate: "2026-04-01", compatibilityFlags: ["nodejs_compat"] };

export default defineConfig({
  test: {
    projects: [
      // Pure domain logic (rules, tiers, models, statistics), run inside workerd.
      {
        plugins: [cloudflareTest({ miniflare: workerd })],
        test: { name: "unit", include: ["test/unit/**/*.test.ts"] },
      },
      // The API through the real stack: the Worker and its Durable Objects in workerd,
      // talking to a real libSQL server started by the global setup.
      {
        plugins: [
          cloudflareTest(async ({ inject }) => ({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                LIBSQL_URL: inject("libsqlUrl"),
                // Webhook tests: serve http://receiver.test/__test/receiver/* from the Worker itself.
                TEST_RECEIVER: "1",
              },
            },
          })),
        ],
        test: { name: "api", include: ["test/api/**/*.test.ts"], globalSetup: ["test/setup/global-setup.ts"], testTimeout: 60_000, hookTimeout: 60_000 },
      },
      // Node-side tooling: the local libSQL server and the CLI scripts.
      {
        test: { name: "node", include: ["test/node/**/*.test.ts"], environment: "node", testTimeout: 60_000 },
      },
    ],
  },
});
