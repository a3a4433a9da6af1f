import { describe, expect, it } from "vitest";
import { localMonth } from "../../src/domain/local-time";
import { call, db, newMember, newProgram, type TestProgram, uniqueKey } from "./helpers";

async function partnerKey(p: TestProgram, partner: string) {
  const res = await call("POST", "/v1/keys", { key: p.keys.admin, body: { name: partner, scope: "partner", partner } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.secret as string;
}

async function sale(key: string, memberId: string, amount: number) {
  const orderId = uniqueKey("order");
  const res = await call("POST", `/v1/members/${memberId}/accruals`, {
    key,
    idempotencyKey: uniqueKey("acc"),
    body: { orderId, amount, currency: "USD" },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return orderId;
}

async function redeem(key: string, memberId: string, points: number) {
  return call("POST", `/v1/members/${memberId}/redemptions`, {
    key,
    idempotencyKey: uniqueKey("rdm"),
    body: { points, reason: "at the till" },
  });
}

/** A program where a point costs 10 minor units (0.10), two partners and the storefront selling and redeeming. */
async function setup() {
  const p = await newProgram({ pointCostPer1000: 10_000, currency: "USD" });
  await call("PATCH", "/v1/program", { key: p.keys.admin, body: { timeZone: "Asia/Taipei" } });
  const north = await partnerKey(p, "pos-north");
  const south = await partnerKey(p, "pos-south");
  const m1 = await newMember(p);
  const m2 = await newMember(p);
  const northOrder = await sale(north, m1.id, 10_000); // 100 points issued by north
  await sale(south, m2.id, 5_000); // 50 by south
  await sale(p.keys.storefront, m1.id, 7_000); // the storefront's own: no partner's
  // North refunds 20.00 of its order: 20 of its points come back.
  const refund = await call("POST", `/v1/orders/${encodeURIComponent(northOrder)}/refunds`, {
    key: north,
    idempotencyKey: uniqueKey("ref"),
    body: { amount: 2_000 },
  });
  expect(refund.status, JSON.stringify(refund.body)).toBe(201);
  expect((await redeem(north, m1.id, 10)).status).toBe(201);
  expect((await redeem(south, m2.id, 30)).status).toBe(201);
  expect((await redeem(p.keys.storefront, m1.id, 5)).status).toBe(201);
  return { p, north, south, m1, m2 };
}

describe("partner settlement", () => {
  it("per partner and local month: points issued net of refunds, redeemed, and the balance owed at the point cost", async () => {
    const { p, north, south, m2 } = await setup();
    // A partner key spends only the points of members it may read, and at once (it cannot settle a reserve).
    expect((await redeem(north, m2.id, 1)).status).toBe(404);
    const reserve = await call("POST", `/v1/members/${m2.id}/redemptions`, {
      key: south,
      idempotencyKey: uniqueKey("rdm"),
      body: { points: 1, reason: "hold", capture: false },
    });
    expect(reserve.status).toBe(400);

    const month = localMonth(new Date(), "Asia/Taipei");
    const res = await call("GET", "/v1/settlement", { key: p.keys.admin });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ to: month, timeZone: "Asia/Taipei", currency: "USD", pointCostPer1000: 10_000, partner: null });
    expect(res.body.data).toEqual([
      {
        period: month,
        partner: "pos-north",
        pointsIssued: 80,
        pointsRedeemed: 10,
        netPoints: 70,
        issuedValueMinor: 800,
        redeemedValueMinor: 100,
        balanceMinor: 700,
        currency: "USD",
      },
      {
        period: month,
        partner: "pos-south",
        pointsIssued: 50,
        pointsRedeemed: 30,
        netPoints: 20,
        issuedValueMinor: 500,
        redeemedValueMinor: 300,
        balanceMinor: 200,
        currency: "USD",
      },
    ]);
    const one = await call("GET", "/v1/settlement?partner=pos-south", { key: p.keys.admin });
    expect(one.body.data.map((r: { partner: string }) => r.partner)).toEqual(["pos-south"]);
  });

  it("a partner key reads only its own partner; storefront keys none; another program's keys nothing", async () => {
    const { p, north, south } = await setup();
    const own = await call("GET", "/v1/settlement", { key: north });
    expect(own.status).toBe(200);
    expect(own.body.partner).toBe("pos-north");
    expect(own.body.data.map((r: { partner: string }) => r.partner)).toEqual(["pos-north"]);
    expect(JSON.stringify(own.body)).not.toContain("pos-south");
    for (const query of ["?partner=pos-south", "?partner=pos-south&from=2026-01"]) {
      const other = await call("GET", `/v1/settlement${query}`, { key: north });
      expect(other.status).toBe(403);
      expect(JSON.stringify(other.body)).not.toContain("pointsIssued");
    }
    // Nor as a file.
    const csv = await call("GET", "/v1/settlement?partner=pos-south", { key: north, headers: { accept: "text/csv" } });
    expect(csv.status).toBe(403);
    expect((await call("GET", "/v1/settlement?partner=pos-north", { key: south })).status).toBe(403);
    expect((await call("GET", "/v1/settlement", { key: p.keys.storefront })).status).toBe(403);

    const stranger = await newProgram();
    const theirs = await call("GET", "/v1/settlement?partner=pos-north", { key: stranger.keys.admin });
    expect(theirs.status).toBe(200);
    expect(theirs.body.data).toEqual([]);
  });

  it("exports as CSV and NDJSON; months are the program's local months", async () => {
    const { p } = await setup();
    const ndjson = await call("GET", "/v1/settlement", { key: p.keys.admin, headers: { accept: "application/x-ndjson" } });
    expect(ndjson.headers.get("content-type")).toMatch(/^application\/x-ndjson/);
    const lines = String(ndjson.body)
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.partner)).toEqual(["pos-north", "pos-south"]);

    // South's sale recorded at 2026-10-31 17:00 UTC: 1 November 01:00 in Taipei, so November's.
    await db().$client.execute({
      sql: `UPDATE ledger_entries SET created_at = '2026-10-31T17:00:00.000Z'
            WHERE program_id = ? AND source_type = 'order' AND source_id IN (SELECT order_id FROM orders WHERE program_id = ? AND source_partner = 'pos-south')`,
      args: [p.programId, p.programId],
    });
    const report = await call("GET", "/v1/settlement?from=2026-10&to=2026-11&partner=pos-south", { key: p.keys.admin });
    expect(report.body.data).toEqual([
      expect.objectContaining({ period: "2026-11", partner: "pos-south", pointsIssued: 50, pointsRedeemed: 0 }),
    ]);

    const csv = await call("GET", "/v1/settlement?from=2026-10&to=2026-11&partner=pos-south", {
      key: p.keys.admin,
      headers: { accept: "text/csv" },
    });
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toMatch(/^text\/csv/);
    expect(csv.body).toBe(
      "period,partner,pointsIssued,pointsRedeemed,netPoints,issuedValueMinor,redeemedValueMinor,balanceMinor,currency\r\n2026-11,pos-south,50,0,50,500,0,500,USD\r\n",
    );

    for (const bad of ["?from=2026-13", "?from=2026-12&to=2026-01", "?from=2020-01&to=2026-12"])
      expect((await call("GET", `/v1/settlement${bad}`, { key: p.keys.admin })).status, bad).toBe(400);
  });
});
