import type { App } from "../../src/lib/context";
import type { RouteModule } from "../../src/routes/route";

/**
 * Cloudflare Access's signing keys as a test team publishes them: the test Worker serves
 * https://receiver.test/cdn-cgi/access/certs (reached through `env.outboundLoopback`, like the
 * webhook receiver), with whatever keys a test put here. Not in the production Worker.
 */
let published: { keys: unknown[] } = { keys: [] };

export function publishAccessKeys(jwks: { keys: unknown[] }) {
  published = jwks;
}

export const testAccessKeysRoute: RouteModule = {
  route: { method: "get", path: "/cdn-cgi/access/certs" },
  register: (app: App) => app.get("/cdn-cgi/access/certs", (c) => c.json(published)),
};
