import { describe, expect, it } from "vitest";
import { assignVariant } from "../../src/domain/experiments";
import { consumeOutboxEvents } from "../../src/services/campaigns/triggers";
import { autoStopExperiments } from "../../src/services/experiments/experiments";
import { accrue, call, db, ledgerSum, newMember, newProgram, type TestProgram, testEnv } from "./helpers";

const DAY = 86_400_000;

// ---- independent statistics for the expected numbers (numerical integration, no library) ----

function simpson(f: (x: number) => number, a: number, b: number, n = 20_000) {
  const h = (b - a) / n;
  let s = f(a) + f(b);
  for (let i = 1; i < n; i++) s += f(a + i * h) * (i % 2 ? 4 : 2);
  return (s * h) / 3;
}
function logGamma(x: number): number {
  // Lanczos (g = 7, n = 9).
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  x -= 1;
  let a = c[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}
/** Two-sided p of a standard normal statistic. */
const normalTwoSided = (z: number) => 1 - 2 * simpson((x) => Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI), 0, Math.abs(z));
/** Two-sided p of a Student t statistic with df degrees of freedom. */
function studentTwoSided(t: number, df: number) {
  const k = Math.exp(logGamma((df + 1) / 2) - logGamma(df / 2)) / Math.sqrt(df * Math.PI);
  return 1 - 2 * simpson((x) => k * (1 + (x * x) / df) ** (-(df + 1) / 2), 0, Math.abs(t));
}

type Group = { n: number; conversions: number; revenues: number[] };
function expectedRate(control: Group, treat: Group) {
  const p1 = control.conversions / control.n;
  const p2 = treat.conversions / treat.n;
  const pooled = (control.conversions + treat.conversions) / (control.n + treat.n);
  const z = (p2 - p1) / Math.sqrt(pooled * (1 - pooled) * (1 / control.n + 1 / treat.n));
  const se = Math.sqrt((p1 * (1 - p1)) / control.n + (p2 * (1 - p2)) / treat.n);
  return { lift: p2 - p1, z, p: normalTwoSided(z), ci: [p2 - p1 - 1.959963984540054 * se, p2 - p1 + 1.959963984540054 * se] };
}
function expectedWelch(control: number[], treat: number[]) {
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = (xs: number[]) => {
    const m = mean(xs);
    return xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1);
  };
  const va = variance(control) / control.length;
  const vb = variance(treat) / treat.length;
  const t = (mean(treat) - mean(control)) / Math.sqrt(va + vb);
  const df = (va + vb) ** 2 / (va ** 2 / (control.length - 1) + vb ** 2 / (treat.length - 1));
  return { difference: mean(treat) - mean(control), t, df, p: studentTwoSided(t, df) };
}

// ---- helpers ----

async function createCampaign(p: TestProgram, body: Record<string, unknown>) {
  const res = await call("POST", "/v1/campaigns", { key: p.keys.admin, body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; experiment: { id: string; controlKey: string } };
}
async function exposures(experimentId: string) {
  const r = await db().$client.execute({
    sql: "SELECT member_id, variant_key FROM experiment_exposures WHERE experiment_id = ? ORDER BY member_id",
    args: [experimentId],
  });
  return new Map(r.rows.map((row) => [String(row.member_id), String(row.variant_key)]));
}
const tick = (at = new Date()) => consumeOutboxEvents(testEnv, at, 500);

describe("A/B experiments", () => {
  it("assigns deterministically and sticks, holds out, computes results matching hand-computed z and t, stops and rolls out the winner, reports ROI", async () => {
    const p = await newProgram({ expiryDays: null, pointCostPer1000: 1000 });
    const campaign = await createCampaign(p, {
      name: "Welcome test",
      trigger: { type: "welcome" },
      actions: [{ type: "award_points", points: 10 }],
      experiment: {
        variants: [
          { key: "small", weight: 1 },
          { key: "big", weight: 1, actions: [{ type: "award_points", points: 50 }] },
        ],
        holdoutPct: 30,
        conversion: { type: "purchase", windowDays: 30 },
        minimumDetectableEffect: 0.3,
        maxDurationDays: 30,
      },
    });
    const experimentId = campaign.experiment.id;
    expect(campaign.experiment).toMatchObject({ status: "running", controlKey: "holdout" });
    const members: Array<{ id: string }> = [];
    for (let i = 0; i < 90; i++) members.push(await newMember(p));
    await tick();
    await tick();

    // Exposure = assignVariant, and the holdout gets nothing.
    const exposed = await exposures(experimentId);
    expect(exposed.size).toBe(90);
    for (const m of members) {
      const a = assignVariant({
        experimentId,
        memberId: m.id,
        variants: [
          { key: "small", weight: 1 },
          { key: "big", weight: 1 },
        ],
        holdoutPct: 30,
      });
      expect(exposed.get(m.id)).toBe(a.variantKey ?? "holdout");
    }
    const groupOf = (key: string) => members.filter((m) => exposed.get(m.id) === key);
    const [holdout, small, big] = [groupOf("holdout"), groupOf("small"), groupOf("big")];
    expect(holdout.length).toBeGreaterThan(10);
    expect(small.length).toBeGreaterThan(10);
    expect(big.length).toBeGreaterThan(10);
    for (const m of holdout) expect((await ledgerSum(m.id)).sum).toBe(0);
    expect((await ledgerSum(small[0].id)).sum).toBe(10);
    expect((await ledgerSum(big[0].id)).sum).toBe(50);

    // Conversions: 20 % of the holdout buy, half of "small", 90 % of "big" — different amounts.
    const revenue = new Map<string, number>();
    const buy = async (list: typeof members, share: number, amount: (i: number) => number) => {
      for (let i = 0; i < Math.round(list.length * share); i++) {
        const a = amount(i);
        expect((await accrue(p, list[i].id, a)).status).toBe(201);
        revenue.set(list[i].id, (revenue.get(list[i].id) ?? 0) + a);
      }
    };
    await buy(holdout, 0.2, (i) => 1000 + 100 * i);
    await buy(small, 0.5, (i) => 1500 + 50 * i);
    await buy(big, 0.9, (i) => 2000 + 75 * (i % 7));
    // Outside the window: 40 days after exposure does not count (the exposure is moved back, as
    // a purchase cannot be dated in the future).
    const lateBuyer = holdout[holdout.length - 1].id;
    await db().$client.execute({
      sql: "UPDATE experiment_exposures SET exposed_at = ? WHERE experiment_id = ? AND member_id = ?",
      args: [new Date(Date.now() - 40 * DAY).toISOString(), experimentId, lateBuyer],
    });
    expect((await accrue(p, lateBuyer, 99_999)).status).toBe(201);

    const res = await call("GET", `/v1/experiments/${experimentId}/results`, { key: p.keys.admin });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const r = res.body;
    const group = (list: typeof members): Group => ({
      n: list.length,
      conversions: list.filter((m) => revenue.has(m.id)).length,
      revenues: list.map((m) => revenue.get(m.id) ?? 0),
    });
    const G = { holdout: group(holdout), small: group(small), big: group(big) };
    for (const key of ["small", "big"] as const) {
      const got = r.groups.find((g: { key: string }) => g.key === key);
      const rate = expectedRate(G.holdout, G[key]);
      const welch = expectedWelch(G.holdout.revenues, G[key].revenues);
      expect(got).toMatchObject({
        exposures: G[key].n,
        conversions: G[key].conversions,
        revenue: G[key].revenues.reduce((a, b) => a + b, 0),
      });
      expect(got.rate).toBeCloseTo(G[key].conversions / G[key].n, 12);
      expect(got.vsControl.rate.absoluteLift).toBeCloseTo(rate.lift, 12);
      expect(got.vsControl.rate.z).toBeCloseTo(rate.z, 9);
      expect(got.vsControl.rate.pValue).toBeCloseTo(rate.p, 6);
      expect(got.vsControl.rate.ci[0]).toBeCloseTo(rate.ci[0], 6);
      expect(got.vsControl.rate.ci[1]).toBeCloseTo(rate.ci[1], 6);
      expect(got.vsControl.revenue.difference).toBeCloseTo(welch.difference, 9);
      expect(got.vsControl.revenue.t).toBeCloseTo(welch.t, 9);
      expect(got.vsControl.revenue.df).toBeCloseTo(welch.df, 9);
      expect(got.vsControl.revenue.pValue).toBeCloseTo(welch.p, 6);
    }
    const hold = r.groups.find((g: { key: string }) => g.key === "holdout");
    expect(hold).toMatchObject({ isControl: true, exposures: G.holdout.n, conversions: G.holdout.conversions, vsControl: null });
    expect(r.sampleSize.requiredPerGroup).toBeGreaterThan(0);
    expect(r.decisionAlpha).toBeCloseTo(0.025, 12);
    expect(r.recommendation).toEqual({ winnerKey: "big", reason: "variant_beats_control" });

    // Sticky: new weights only affect members not yet exposed.
    const patched = await call("PATCH", `/v1/campaigns/${campaign.id}`, {
      key: p.keys.admin,
      body: {
        experiment: {
          variants: [
            { key: "small", weight: 1 },
            { key: "big", weight: 1000, actions: [{ type: "award_points", points: 50 }] },
          ],
          holdoutPct: 30,
          conversion: { type: "purchase", windowDays: 30 },
          minimumDetectableEffect: 0.3,
          maxDurationDays: 30,
        },
      },
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(await exposures(experimentId)).toEqual(exposed);

    // ROI: cost = points at cost; incremental revenue = (per treated − per held-out) × treated.
    const roi = (await call("GET", `/v1/campaigns/${campaign.id}/roi`, { key: p.keys.admin })).body;
    const cost = small.length * 10 + big.length * 50;
    const treatedRevenue = [...G.small.revenues, ...G.big.revenues].reduce((a, b) => a + b, 0);
    const holdoutRevenue = G.holdout.revenues.reduce((a, b) => a + b, 0);
    const treatedN = small.length + big.length;
    const incremental = Math.round((treatedRevenue / treatedN - holdoutRevenue / G.holdout.n) * treatedN);
    expect(roi).toMatchObject({
      costMinor: cost,
      attribution: { treatedMembers: treatedN, revenue: treatedRevenue },
      incremental: { treatedMembers: treatedN, holdoutMembers: G.holdout.n, incrementalRevenue: incremental },
    });
    expect(roi.incremental.roi).toBeCloseTo((incremental - cost) / cost, 9);
    expect(roi.attribution.roi).toBeCloseTo((treatedRevenue - cost) / cost, 9);

    // Stop: the winner is rolled out to everyone, nobody is held out or newly exposed.
    const stopped = await call("POST", `/v1/experiments/${experimentId}/stop`, { key: p.keys.admin, body: {} });
    expect(stopped.status, JSON.stringify(stopped.body)).toBe(200);
    expect(stopped.body.experiment).toMatchObject({ status: "stopped", winner: "big" });
    expect((await call("POST", `/v1/experiments/${experimentId}/stop`, { key: p.keys.admin, body: {} })).status).toBe(409);
    const late: Array<{ id: string }> = [];
    for (let i = 0; i < 5; i++) late.push(await newMember(p));
    await tick();
    for (const m of late) expect((await ledgerSum(m.id)).sum).toBe(50);
    expect((await exposures(experimentId)).size).toBe(90);
    // A stopped experiment's definition no longer changes.
    expect(
      (
        await call("PATCH", `/v1/campaigns/${campaign.id}`, {
          key: p.keys.admin,
          body: {
            experiment: {
              variants: [
                { key: "small", weight: 5 },
                { key: "big", weight: 1 },
              ],
              holdoutPct: 10,
            },
          },
        })
      ).status,
    ).toBe(409);
    const list = (await call("GET", "/v1/experiments", { key: p.keys.admin })).body.data;
    expect(list).toEqual([
      expect.objectContaining({ id: experimentId, status: "stopped", winner: "big", stop: expect.objectContaining({ by: "api" }) }),
    ]);
    expect((await call("GET", `/v1/experiments/${experimentId}`, { key: (await newProgram()).keys.admin })).status).toBe(404);
  });

  it("the nightly stop rule ends an experiment at its max duration; a holdout win pauses the campaign; a forced winner must be a group", async () => {
    const p = await newProgram({ expiryDays: null });
    const a = await createCampaign(p, {
      name: "Short test",
      trigger: { type: "welcome" },
      actions: [{ type: "award_points", points: 5 }],
      experiment: {
        variants: [
          { key: "a", weight: 1 },
          { key: "b", weight: 1 },
        ],
        holdoutPct: 0,
        maxDurationDays: 1,
      },
    });
    const b = await createCampaign(p, {
      name: "Do nothing wins",
      trigger: { type: "welcome" },
      actions: [{ type: "award_points", points: 5 }],
      experiment: { variants: [{ key: "only", weight: 1 }], holdoutPct: 50 },
    });
    const c = await createCampaign(p, {
      name: "Stopped by hand",
      trigger: { type: "welcome" },
      actions: [{ type: "award_points", points: 5 }],
      experiment: { variants: [{ key: "x", weight: 1 }], holdoutPct: 50 },
    });
    for (let i = 0; i < 6; i++) await newMember(p);
    await tick();
    // No body: the results decide (here: nothing conclusive).
    const plain = await call("POST", `/v1/experiments/${c.experiment.id}/stop`, { key: p.keys.admin });
    expect(plain.status, JSON.stringify(plain.body)).toBe(200);
    expect(plain.body.experiment).toMatchObject({
      status: "stopped",
      winner: null,
      stop: expect.objectContaining({ reason: "manual:no_significant_difference" }),
    });
    expect((await call("POST", `/v1/experiments/${b.experiment.id}/stop`, { key: p.keys.admin, body: { winner: "nope" } })).status).toBe(
      400,
    );

    // Not yet past max duration.
    await autoStopExperiments(testEnv, new Date());
    expect((await call("GET", `/v1/experiments/${a.experiment.id}`, { key: p.keys.admin })).body.status).toBe("running");
    await autoStopExperiments(testEnv, new Date(Date.now() + 2 * DAY));
    const ended = (await call("GET", `/v1/experiments/${a.experiment.id}`, { key: p.keys.admin })).body;
    expect(ended).toMatchObject({
      status: "stopped",
      winner: null,
      controlKey: "a",
      stop: expect.objectContaining({ by: "cron", reason: "max_duration:no_significant_difference" }),
    });
    // No winner: the campaign goes on with its own actions.
    expect((await call("GET", `/v1/campaigns/${a.id}`, { key: p.keys.admin })).body.status).toBe("active");

    const forced = await call("POST", `/v1/experiments/${b.experiment.id}/stop`, { key: p.keys.admin, body: { winner: "holdout" } });
    expect(forced.status).toBe(200);
    expect(forced.body.experiment).toMatchObject({ status: "stopped", winner: "holdout", campaignStatus: "paused" });
    const audit = await db().$client.execute({
      sql: "SELECT action FROM audit_log WHERE program_id = ? AND entity_type = 'experiment'",
      args: [p.programId],
    });
    expect(audit.rows.map((row) => row.action)).toEqual(["experiment.stopped", "experiment.stopped"]);
  });
});
