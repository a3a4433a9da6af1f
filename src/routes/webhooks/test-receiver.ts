import type { App } from "../../lib/context";
import { AppError } from "../../lib/errors";

/**
 * A webhook receiver for tests only (404 unless the TEST_RECEIVER=1 binding is set, which
 * only the vitest config sets): tests cannot open a port inside workerd, so deliveries to
 * http://receiver.test/__test/receiver/<bucket> are routed to this Worker (see
 * webhooks-delivery.ts). Each bucket records what it received and answers with a
 * scripted sequence of statuses (PUT {statuses:[500,500], then:200}), default 200.
 * Not in the OpenAPI document.
 */
type Received = { headers: Record<string, string>; body: string; at: string };
const buckets = new Map<string, { received: Received[]; statuses: number[]; afterwards: number }>();

const bucketOf = (name: string) => {
  let b = buckets.get(name);
  if (!b) {
    b = { received: [], statuses: [], afterwards: 200 };
    buckets.set(name, b);
  }
  return b;
};

const PATH = "/__test/receiver/:bucket";

export const route = { method: "post", path: "/__test/receiver/{bucket}" };

export const register = (app: App) => {
  app.use(PATH, async (c, next) => {
    if ((c.env as { TEST_RECEIVER?: string }).TEST_RECEIVER !== "1")
      throw new AppError("not_found", `No route for ${c.req.method} ${c.req.path}`);
    await next();
  });
  app.post(PATH, async (c) => {
    const b = bucketOf(c.req.param("bucket"));
    const headers: Record<string, string> = {};
    c.req.raw.headers.forEach((v, k) => {
      headers[k] = v;
    });
    b.received.push({ headers, body: await c.req.text(), at: new Date().toISOString() });
    const status = b.statuses.length ? b.statuses.shift()! : b.afterwards;
    // Null-body statuses (204, 304…) cannot carry the JSON acknowledgement.
    return [101, 204, 205, 304].includes(status) ? c.body(null, status as 204) : c.json({ received: true }, status as 200);
  });
  app.put(PATH, async (c) => {
    const b = bucketOf(c.req.param("bucket"));
    const script = (await c.req.json()) as { statuses?: number[]; then?: number };
    b.statuses = [...(script.statuses ?? [])];
    b.afterwards = script.then ?? 200;
    return c.json({ ok: true });
  });
  app.get(PATH, (c) => c.json({ received: bucketOf(c.req.param("bucket")).received }));
};
