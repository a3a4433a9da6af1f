import { createHmac } from "node:crypto";

/**
 * Top-up for the dashboard test: when the seeded program has no campaign yet (and this
 * deployment has campaigns), create a segment, a broadcast campaign with an A/B experiment
 * and a holdout, a stage-change campaign, fire the campaign crons, then let some members buy
 * so the experiment has conversions. Everything through the public API; a no-op otherwise.
 */
export async function ensureCampaigns({ base, keys, log }) {
  const paths = new Set(Object.keys((await (await fetch(`${base}/openapi.json`)).json()).paths));
  if (!paths.has("/v1/campaigns") || !paths.has("/v1/segments")) return log("campaigns: not on this deployment, skipped");

  async function call(method, path, { key = keys.admin, body, idempotencyKey } = {}) {
    const headers = { authorization: `Bearer ${key}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (idempotencyKey) headers["idempotency-key"] = idempotencyKey;
    // wrangler dev restarts the Worker when a source file changes: retry connection errors and 5xx.
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
        const json = await res.json().catch(() => null);
        if (res.status >= 500 && attempt < 5) throw new Error(`${res.status}`);
        if (!res.ok) throw Object.assign(new Error(`${method} ${path} → ${res.status} ${JSON.stringify(json)}`), { final: true });
        return json;
      } catch (err) {
        if (err.final || attempt >= 5) throw err;
        await new Promise((r) => setTimeout(r, 300 * 2 ** attempt));
      }
    }
  }

  const existing = await call("GET", "/v1/campaigns");
  if (paths.has("/v1/campaigns/{campaignId}/engagement") && !(existing.data ?? []).some((c) => c.journey))
    await ensureJourney({ base, call, log, adminKey: keys.admin });
  if ((existing.data ?? []).length > 0) return log(`campaigns: the seed created ${existing.data.length}`);

  const segment = await call("POST", "/v1/segments", {
    body: { name: "Reachable members", rule: { field: "stage", op: "in", value: ["new", "active", "dormant", "at_risk"] } },
  });
  await call("POST", `/v1/segments/${segment.id}/recompute`);
  await call("POST", "/v1/campaigns", {
    body: {
      name: "Autumn double-up",
      trigger: { type: "broadcast" },
      audience: { segmentId: segment.id },
      actions: [{ type: "award_points", points: 100 }],
      budgetMinor: 500_000,
      experiment: {
        variants: [
          { key: "points100", weight: 1 },
          { key: "points300", weight: 1, actions: [{ type: "award_points", points: 300 }] },
        ],
        holdoutPct: 20,
        conversion: { type: "purchase", windowDays: 30 },
      },
    },
  });
  await call("POST", "/v1/campaigns", {
    body: {
      name: "Win-back nudge",
      trigger: { type: "stage_change", to: ["at_risk", "churned"] },
      actions: [{ type: "award_points", points: 250 }],
      budgetMinor: 100_000,
    },
  });
  for (const cron of ["* * * * *", "*/5 * * * *"]) await fetch(`${base}/__scheduled?cron=${encodeURIComponent(cron)}`);

  // Purchases after the broadcast: every member of the first 150 with a deterministic coin.
  let orders = 0;
  for (let i = 1; i <= 150; i++) {
    if ((i * 7919) % 10 >= 4) continue;
    const externalId = `demo-${String(i).padStart(7, "0")}`;
    const member = await call("GET", `/v1/members?externalId=${externalId}`, { key: keys.storefront }).catch(() => null);
    if (!member) continue;
    const orderId = `e2e-${externalId}`;
    await call("POST", `/v1/members/${member.id}/accruals`, {
      key: keys.storefront,
      idempotencyKey: orderId,
      body: { orderId, amount: 2500 + ((i * 3571) % 9000), currency: "USD", channel: "web" },
    });
    orders++;
  }
  log(`campaigns: created 2 (one with an experiment), then ${orders} purchases`);
}

/**
 * A journey with a funnel worth drawing: members entering a segment get a message, then those
 * with 5+ orders points and a thank-you while the others wait a week for a nudge. The segment's
 * rule is set after the campaign exists, so its members enter now; the minute cron advances
 * them; a few "opened" provider events are posted, signed with the channel secret.
 */
async function ensureJourney({ base, call, log, adminKey }) {
  const segment = await call("POST", "/v1/segments", {
    body: { name: "Journey demo: buyers", rule: { field: "tags", op: "contains", value: "e2e-journey-nobody" } },
  });
  const { secret } = await call("PUT", "/v1/channels/email", { body: { url: "https://messaging.example.com/loyalty/email" } }).catch(
    () => ({}),
  );
  const campaign = await call("POST", "/v1/campaigns", {
    body: {
      name: "Welcome back series",
      trigger: { type: "segment_entry", segmentId: segment.id },
      journey: {
        exitOn: ["purchase", "unsubscribe"],
        steps: [
          { id: "hello", type: "send", channel: "email", template: "Hi {{name}}, you have {{balance}} points waiting.", next: "regular" },
          {
            id: "regular",
            type: "branch",
            condition: { type: "segment", rule: { field: "orders", op: "gte", value: 5 } },
            yes: "points",
            no: "week",
          },
          { id: "points", type: "award", points: 50, next: "thanks" },
          { id: "thanks", type: "send", channel: "email", template: "50 points for being a regular: {{balance}} now." },
          { id: "week", type: "wait", days: 7, untilLocalTime: "10:00", next: "nudge" },
          { id: "nudge", type: "send", channel: "email", template: "Still thinking about it? Your {{balance}} points are here." },
        ],
      },
    },
  });
  await call("PATCH", `/v1/segments/${segment.id}`, { body: { rule: { field: "orders", op: "gte", value: 1 } } });
  await fetch(`${base}/__scheduled?cron=${encodeURIComponent("* * * * *")}`);
  let opened = 0;
  if (secret) {
    const { data } = await call("GET", `/v1/campaigns/${campaign.id}/messages?limit=100`);
    const events = data
      .filter((m) => m.stepId === "hello")
      .filter((_, i) => i % 3 === 0)
      .map((m, i) => ({ id: `e2e-open-${i}`, messageId: m.id, type: "opened" }));
    if (events.length) {
      const raw = JSON.stringify({ events });
      const id = `e2e-${Date.now()}`;
      const ts = Math.floor(Date.now() / 1000);
      const signature = createHmac("sha256", Buffer.from(secret.slice("whsec_".length), "base64"))
        .update(`${id}.${ts}.${raw}`)
        .digest("base64");
      const res = await fetch(`${base}/v1/channels/email/events`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${adminKey}`,
          "content-type": "application/json",
          "webhook-id": id,
          "webhook-timestamp": String(ts),
          "webhook-signature": `v1,${signature}`,
        },
        body: raw,
      });
      if (!res.ok) throw new Error(`provider events → ${res.status} ${await res.text()}`);
      opened = events.length;
    }
  }
  log(`journey: created "${campaign.name}", advanced by the minute cron, ${opened} opens reported`);
}
