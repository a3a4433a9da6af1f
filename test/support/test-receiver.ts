import type { App } from "../../src/lib/context";
import type { RouteModule } from "../../src/routes/route";

/**
 * A webhook receiver for tests, served by the test Worker (test/support/worker.ts) only: tests
 * cannot open a port inside workerd, so deliveries to http://receiver.test/__test/receiver/<bucket>
 * are routed to the Worker itself (`env.outboundLoopback`, see src/lib/outbound-fetch.ts). Each
 * bucket records what it received and answers with a scripted sequence of statuses
 * (PUT {statuses:[500,500], then:200}), default 200; a 3xx answers with the scripted `location`
 * (PUT {then:307, location}), to prove redirects are not followed. Not in the OpenAPI document.
 */
type Received = { headers: Record<string, string>; body: string; at: string };
/** What a bucket received, the statuses scripted for its next requests, and the status after those. */
type Bucket = { received: Received[]; statuses: number[]; afterwards: number; location?: string };
const buckets = new Map<string, Bucket>();

const bucketOf = (name: string) => {
  let bucket = buckets.get(name);
  if (!bucket) {
    bucket = { received: [], statuses: [], afterwards: 200 };
    buckets.set(name, bucket);
  }
  return bucket;
};

const PATH = "/__test/receiver/:bucket";

/** The host whose requests the test Worker serves with this receiver. */
export const RECEIVER_HOST = "receiver.test";

export const testReceiverRoute: RouteModule = {
  route: { method: "post", path: "/__test/receiver/{bucket}" },
  register: (app: App) => {
    app.post(PATH, async (c) => {
      const b = bucketOf(c.req.param("bucket"));
      const headers: Record<string, string> = {};
      c.req.raw.headers.forEach((v, k) => {
        headers[k] = v;
      });
      b.received.push({ headers, body: await c.req.text(), at: new Date().toISOString() });
      const status = b.statuses.length ? b.statuses.shift()! : b.afterwards;
      if (status >= 300 && status < 400 && b.location) return c.body(null, status as 302, { location: b.location });
      // Null-body statuses (204, 304…) cannot carry the JSON acknowledgement.
      return [101, 204, 205, 304].includes(status) ? c.body(null, status as 204) : c.json({ received: true }, status as 200);
    });
    app.put(PATH, async (c) => {
      const b = bucketOf(c.req.param("bucket"));
      const script = (await c.req.json()) as { statuses?: number[]; then?: number; location?: string };
      b.statuses = [...(script.statuses ?? [])];
      b.afterwards = script.then ?? 200;
      b.location = script.location;
      return c.json({ ok: true });
    });
    app.get(PATH, (c) => c.json({ received: bucketOf(c.req.param("bucket")).received }));
  },
};
