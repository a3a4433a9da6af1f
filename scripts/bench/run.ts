/**
 * `npm run bench [-- --large] [--only lookup,member-token,accrual,contention,quote,cron,models,soak,outage]
 *   [--seconds 4] [--rounds 2] [--connections 16] [--soak-seconds 60] [--cron-sizes 10000,30000,100000] [--quick]`
 *
 * Starts its own local stack (scripts/dev.ts on free ports, a fresh database, the bench Worker),
 * measures every figure as a ratio to a baseline measured in the same run, prints a table and
 * writes scripts/bench/results.json. Not part of `npm test`. See scripts/bench/README.md.
 */
import { writeFileSync } from "node:fs";
import { cpus, freemem, release, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { benchCron } from "./cron";
import {
  benchAccrual,
  benchContention,
  benchLookup,
  benchLookupUncached,
  benchMemberToken,
  benchQuote,
  type Comparison,
  httpPrograms,
  type Settings,
} from "./http";
import { benchModels } from "./models";
import { benchOutageAccrual } from "./outage";
import { fundMembers, memoryFlat, runSoak } from "./soak";
import { root, type Stack, startStack } from "./stack";

const SECTIONS = ["lookup", "member-token", "accrual", "contention", "quote", "cron", "models", "soak", "outage"] as const;

const { values } = parseArgs({
  options: {
    large: { type: "boolean", default: false },
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    seconds: { type: "string" },
    rounds: { type: "string" },
    connections: { type: "string", default: "16" },
    "soak-seconds": { type: "string" },
    "cron-sizes": { type: "string" },
    out: { type: "string", default: join(root, "scripts/bench/results.json") },
  },
});

const num = (v: string | undefined, fallback: number) => (v === undefined ? fallback : Number(v));
const only = new Set((values.only ?? SECTIONS.join(",")).split(",").map((s) => s.trim()));
for (const s of only)
  if (!(SECTIONS as readonly string[]).includes(s)) throw new Error(`unknown section ${s}; sections: ${SECTIONS.join(", ")}`);
const settings: Settings = {
  seconds: num(values.seconds, values.quick ? 2 : 4),
  rounds: num(values.rounds, values.quick ? 1 : 2),
  connections: num(values.connections, 16),
};
const soakSeconds = num(values["soak-seconds"], values.quick ? 10 : 60);
const cronSizes = values["cron-sizes"]
  ? values["cron-sizes"].split(",").map(Number)
  : values.quick
    ? [2_000, 5_000]
    : values.large
      ? [10_000, 30_000, 100_000, 300_000, 1_000_000]
      : [10_000, 30_000, 100_000];

const log = (s: string) => console.error(s);
const machine = {
  cpu: cpus()[0]?.model ?? "unknown",
  cores: cpus().length,
  memoryGb: Math.round(totalmem() / 2 ** 30),
  freeMemoryGbAtStart: Math.round(freemem() / 2 ** 30),
  os: `${process.platform} ${release()}`,
  node: process.version,
};

let stack: Stack | undefined;
const stopAndExit = async (code: number) => {
  await stack?.stop();
  process.exit(code);
};
process.on("SIGINT", () => void stopAndExit(130));
process.on("SIGTERM", () => void stopAndExit(143));

const results: Record<string, unknown> = {
  startedAt: new Date().toISOString(),
  machine,
  settings: { ...settings, soakSeconds, cronSizes, large: values.large, quick: values.quick },
};
type Row = { section: string; metric: string; subject: string; baseline: string; ratio: string; goal: string };
const rows: Row[] = [];
const ms = (v: number) => `${v < 10 ? v.toFixed(2) : v.toFixed(0)} ms`;
const x = (v: number) => `${v.toFixed(2)}×`;

function comparisonRows(c: Comparison) {
  const goal = c.goal ? `≤ ${c.goal.max}× ${c.goal.pass ? "✓" : "✗"}` : "";
  rows.push(
    {
      section: c.name,
      metric: "p50 serial",
      subject: ms(c.subject.serial.p50),
      baseline: ms(c.baseline.serial.p50),
      ratio: x(c.ratios.p50),
      goal,
    },
    {
      section: "",
      metric: "p99 serial",
      subject: ms(c.subject.serial.p99),
      baseline: ms(c.baseline.serial.p99),
      ratio: x(c.ratios.p99),
      goal: "",
    },
    {
      section: "",
      metric: `p50 @${settings.connections} conns`,
      subject: ms(c.subject.loaded.p50),
      baseline: ms(c.baseline.loaded.p50),
      ratio: x(c.ratios.loadedP50),
      goal: "",
    },
    {
      section: "",
      metric: `req/s @${settings.connections} conns`,
      subject: c.subject.loaded.rps.toFixed(0),
      baseline: c.baseline.loaded.rps.toFixed(0),
      ratio: x(c.ratios.rps),
      goal: "",
    },
  );
  const errors = c.subject.serial.errors + c.subject.loaded.errors + c.baseline.serial.errors + c.baseline.loaded.errors;
  if (errors > 0)
    rows.push({
      section: "",
      metric: "errors",
      subject: String(c.subject.serial.errors + c.subject.loaded.errors),
      baseline: String(c.baseline.serial.errors + c.baseline.loaded.errors),
      ratio: "",
      goal: "0 ✗",
    });
}

function printTable() {
  const cols: Array<keyof Row> = ["section", "metric", "subject", "baseline", "ratio", "goal"];
  const width = Object.fromEntries(cols.map((c) => [c, Math.max(c.length, ...rows.map((r) => r[c].length))])) as Record<keyof Row, number>;
  const line = (r: Record<keyof Row, string>) => cols.map((c) => r[c].padEnd(width[c])).join(" │ ");
  console.log(line({ section: "section", metric: "metric", subject: "subject", baseline: "baseline", ratio: "ratio", goal: "goal" }));
  console.log(cols.map((c) => "─".repeat(width[c])).join("─┼─"));
  for (const r of rows) console.log(line(r));
}

try {
  const needsStack = [...only].some((s) => s !== "models");
  if (needsStack) {
    log("starting the local stack…");
    // The bench Worker (the API plus its baseline routes); rate limits off (a bench key sends far more than a shop would).
    // Faults on only for the outage section (it switches the libSQL server's outage fault on and off).
    stack = await startStack({
      entry: "scripts/bench/worker.ts",
      vars: { RATE_LIMIT_PER_MINUTE: "1000000000" },
      faults: only.has("outage"),
    });
    log(`stack up: api ${stack.apiUrl}, libSQL ${stack.libsqlUrl}`);
  }
  const programs =
    needsStack && [...only].some((s) => ["lookup", "member-token", "accrual", "contention", "quote", "soak", "outage"].includes(s))
      ? await httpPrograms(stack!)
      : undefined;

  if (only.has("lookup")) {
    log("member lookup…");
    const c = await benchLookup(stack!, programs!.plain, settings);
    results.lookup = c;
    comparisonRows(c);
    const uncached = await benchLookupUncached(stack!, programs!.plain, settings);
    results.lookupUncached = uncached;
    comparisonRows(uncached);
  }
  if (only.has("member-token")) {
    log("member-token balance read…");
    const c = await benchMemberToken(stack!, programs!.plain, settings);
    results.memberToken = c;
    comparisonRows(c.me);
    comparisonRows(c.detail);
    comparisonRows(c.vsKey);
  }
  if (only.has("accrual")) {
    log("accrual: Durable Object vs raw batch…");
    const c = await benchAccrual(stack!, programs!.plain, settings);
    results.accrual = c;
    comparisonRows(c);
  }
  if (only.has("contention")) {
    log("64 concurrent accruals: one member vs 64 members…");
    const c = await benchContention(stack!, programs!.plain, values.quick ? 2 : 6);
    results.contention = c;
    rows.push(
      {
        section: "64 concurrent accruals",
        metric: "wall time",
        subject: `${ms(c.oneMember.wallMs)} (1 member)`,
        baseline: `${ms(c.distinctMembers.wallMs)} (64 members)`,
        ratio: x(c.ratio),
        goal: "",
      },
      {
        section: "",
        metric: "p50 per request",
        subject: ms(c.oneMember.p50),
        baseline: ms(c.distinctMembers.p50),
        ratio: x(c.oneMember.p50 / c.distinctMembers.p50),
        goal: "",
      },
      {
        section: "",
        metric: "p99 per request",
        subject: ms(c.oneMember.p99),
        baseline: ms(c.distinctMembers.p99),
        ratio: x(c.oneMember.p99 / c.distinctMembers.p99),
        goal: "",
      },
      {
        section: "",
        metric: "per accrual on 1 member",
        subject: ms(c.oneMember.wallMs / c.concurrency),
        baseline: "",
        ratio: "",
        goal: "",
      },
    );
  }
  if (only.has("outage")) {
    log("accrual while the database is down…");
    const o = await benchOutageAccrual(stack!, programs!.plain, settings);
    results.outage = o;
    rows.push(
      {
        section: "accrual, database down (202, queued in the DO)",
        metric: "p50 serial",
        subject: ms(o.down.p50),
        baseline: `${ms(o.online.p50)} (up, 201)`,
        ratio: x(o.ratioP50),
        goal: "",
      },
      { section: "", metric: "p99 serial", subject: ms(o.down.p99), baseline: `${ms(o.online.p99)} (up)`, ratio: "", goal: "" },
      {
        section: "",
        metric: `p50 @${settings.connections} conns`,
        subject: ms(o.downLoaded.p50),
        baseline: "",
        ratio: "",
        goal: "",
      },
      {
        section: "",
        metric: `req/s @${settings.connections} conns`,
        subject: o.downLoaded.rps.toFixed(0),
        baseline: "",
        ratio: "",
        goal: "",
      },
      {
        section: "",
        metric: "applied once back",
        subject: `${o.drain.writes} writes, ${o.drain.members} members`,
        baseline: o.drain.membersStillPending ? `not all: ${o.drain.membersStillPending} members pending` : ms(o.drain.ms),
        ratio: "",
        goal: "",
      },
    );
    const errors = o.down.errors + o.downLoaded.errors;
    if (errors > 0) rows.push({ section: "", metric: "errors", subject: String(errors), baseline: "", ratio: "", goal: "0 ✗" });
  }
  if (only.has("quote")) {
    log("quote…");
    const c = await benchQuote(stack!, programs!.rich, settings);
    results.quote = c;
    comparisonRows(c);
  }
  if (only.has("models")) {
    log("models on CDNOW…");
    const m = benchModels({ rounds: values.quick ? 1 : 3, scoreMembers: 100_000 });
    results.models = m;
    rows.push(
      {
        section: "BG/NBD + Gamma-Gamma fit (CDNOW, 2,357)",
        metric: "fit time",
        subject: ms(m.fit.ms),
        baseline: `${ms(m.fit.likelihoodEvalMs)} (1 likelihood)`,
        ratio: x(m.fit.ratioToOneLikelihood),
        goal: "",
      },
      {
        section: "",
        metric: "BG/NBD r, α, a, b",
        subject: [m.fit.bgnbd.r, m.fit.bgnbd.alpha, m.fit.bgnbd.a, m.fit.bgnbd.b].map((v) => v.toFixed(3)).join(", "),
        baseline: "0.243, 4.414, 0.793, 2.426",
        ratio: "",
        goal: "published",
      },
      {
        section: "",
        metric: "Gamma-Gamma p, q, γ",
        subject: [m.fit.gammaGamma.p, m.fit.gammaGamma.q, m.fit.gammaGamma.gamma].map((v) => v.toFixed(2)).join(", "),
        baseline: "6.25, 3.74, 15.44",
        ratio: "",
        goal: "published",
      },
      {
        section: "scoring 100k members",
        metric: "time",
        subject: ms(m.scoring.ms),
        baseline: `${ms(m.scoring.trivialLoopMs)} (trivial loop)`,
        ratio: x(m.scoring.ratio),
        goal: "",
      },
      { section: "", metric: "per member", subject: `${m.scoring.usPerMember.toFixed(1)} µs`, baseline: "", ratio: "", goal: "" },
    );
  }
  if (only.has("soak")) {
    log(`soak: ${soakSeconds} s of mixed traffic…`);
    await fundMembers(stack!, programs!.rich);
    const s = await runSoak(stack!, programs!.rich, { seconds: soakSeconds, connections: settings.connections });
    results.soak = s;
    const flat = memoryFlat(s.memory);
    const mb = (m: { libsqlMb: number; workerMb: number; proxyMb: number }) =>
      `${m.libsqlMb.toFixed(0)} / ${m.workerMb.toFixed(0)} / ${m.proxyMb.toFixed(0)} MB`;
    const pct = (v: number) => `${v >= 0 ? "+" : ""}${v.toFixed(1)}%`;
    rows.push(
      {
        section: `soak ${soakSeconds} s, mixed, ${settings.connections} conns`,
        metric: "requests / errors",
        subject: `${s.stats.requests} / ${s.stats.errors}`,
        baseline: "",
        ratio: "",
        goal: `0 errors ${s.stats.errors === 0 ? "✓" : "✗"}`,
      },
      {
        section: "",
        metric: "req/s, p50, p99",
        subject: `${s.stats.rps.toFixed(0)}, ${ms(s.stats.p50)}, ${ms(s.stats.p99)}`,
        baseline: "",
        ratio: "",
        goal: "",
      },
      {
        section: "",
        metric: "peak RSS libSQL / Worker / dev proxy, 2nd half",
        subject: mb(s.memory.secondHalfPeak),
        baseline: `${mb(s.memory.firstHalfPeak)} 1st half`,
        ratio: `${pct(s.memory.growthPct.libsql)} / ${pct(s.memory.growthPct.worker)} / ${pct(s.memory.growthPct.proxy)}`,
        goal: `flat ${flat ? "✓" : "✗"}`,
      },
      {
        section: "",
        metric: "balance ≠ Σ ledger",
        subject: String(s.ledgerMismatches),
        baseline: "",
        ratio: "",
        goal: `0 ${s.ledgerMismatches === 0 ? "✓" : "✗"}`,
      },
    );
  }
  if (only.has("cron")) {
    log(`cron recompute at ${cronSizes.join(", ")} members…`);
    const c = await benchCron(stack!, cronSizes, log);
    results.cron = c;
    for (const size of c.sizes) {
      rows.push({
        section: `cron @ ${size.members.toLocaleString("en")} members`,
        metric: "raw UPDATE (baseline)",
        subject: "",
        baseline: ms(size.rawUpdateMs),
        ratio: "1.00×",
        goal: "",
      });
      for (const j of size.jobs) {
        rows.push({
          section: "",
          metric: j.job,
          subject: `${ms(j.ms)} (${j.msPerThousand.toFixed(1)} ms/1k; CPU ${ms(j.cpuMs ?? 0)})`,
          baseline: ms(size.rawUpdateMs),
          ratio: x(j.ratioToRawUpdate),
          goal: `peak libSQL ${j.libsqlPeakMb.toFixed(0)} MB, bench ${j.benchPeakMb.toFixed(0)} MB`,
        });
      }
    }
    for (const [job, exp] of Object.entries(c.growth))
      rows.push({
        section: "cron growth (time ∝ members^k)",
        metric: job,
        subject: `k = ${exp.toFixed(2)}`,
        baseline: "",
        ratio: "",
        goal: "",
      });
  }

  results.finishedAt = new Date().toISOString();
  writeFileSync(values.out!, `${JSON.stringify(results, null, 2)}\n`);
  console.log("");
  printTable();
  console.log(`\nresults: ${values.out}`);
  await stopAndExit(0);
} catch (e) {
  console.error(e);
  if (stack) console.error(`--- stack output ---\n${stack.log().slice(-4000)}`);
  await stopAndExit(1);
}
