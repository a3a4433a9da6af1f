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
      // Node-side tooling: the local libSQL server and the CLI scripts.
      {
        test: { name: "node", include: ["test/node/**/*.test.ts"], environment: "node", testTimeout: 60_000 },
      },
    ],
  },
});
