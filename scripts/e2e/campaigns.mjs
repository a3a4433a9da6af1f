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
