/**
 * `npx tsx scripts/bench/import-memory.ts [--rows 1000000] [--lots 4] [--batch 500] [--stack]`
 *
 * The migration CLI's memory on a large file: writes an opening-balances CSV of `--rows` rows
 * (`--lots` rows per member), runs `npm run import -- --kind balances` on it and samples the
 * importer's resident memory (VmRSS, and its peak VmHWM) from /proc while it runs.
 *
 * By default the importer talks to a minimal in-process answerer of the two routes it calls
 * (`GET /v1/program`, `POST /v1/imports/balances`, each member `imported`): this measures the
 * CLI alone — streaming, grouping, batching, checkpoints — at full speed. `--stack` sends the
 * file to the real local stack instead (members imported first; slower, the Durable Objects
 * write every member).
 */
import { spawn } from "node:child_process";
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { database } from "../../src/db/client";
import { createProgram } from "../../src/services/access/programs";
import { importMembers } from "../../src/services/admin/bulk-import";
import { root, startStack } from "./stack";

const { values } = parseArgs({
  options: {
    rows: { type: "string", default: "1000000" },
    lots: { type: "string", default: "4" },
    batch: { type: "string", default: "500" },
    stack: { type: "boolean", default: false },
  },
});
const rows = Number(values.rows);
const lotsPerMember = Math.max(1, Number(values.lots));
const members = Math.ceil(rows / lotsPerMember);
const dir = mkdtempSync(join(tmpdir(), "import-bench-"));
const file = join(dir, "balances.csv");

// 1. The file, streamed to disk.
{
  const out = createWriteStream(file);
  const write = (text: string) => (out.write(text) ? Promise.resolve() : new Promise<void>((r) => out.once("drain", () => r())));
  await write("externalId,legacyId,points,earnedAt,expiresAt,lifetimeEarned\n");
  const earned = new Date(Date.now() - 200 * 86_400_000).toISOString();
  const expires = new Date(Date.now() + 300 * 86_400_000).toISOString();
  for (let r = 0; r < rows; r++) {
    const m = Math.floor(r / lotsPerMember);
    await write(`bench-${m},OLD-${m},${10 + (r % 90)},${earned},${r % 2 ? expires : ""},${r % lotsPerMember === 0 ? 1_000_000 : ""}\n`);
  }
  await new Promise<void>((r) => out.end(() => r()));
}
console.error(`${rows} rows, ${members} members: ${(readFileSync(file).length / 1e6).toFixed(1)} MB`);

// 2. Where the importer sends it.
let url: string;
let key: string;
let stop: () => Promise<void>;
if (values.stack) {
  const stack = await startStack({ vars: { RATE_LIMIT_PER_MINUTE: "100000000" } });
  const db = database(stack.dbEnv);
  const created = await createProgram({
    ctx: { env: stack.dbEnv as never, db, requestId: "bench" },
    input: { name: "Import bench", holdDays: 0, expiryDays: null },
  });
  for (let m = 0; m < members; m += 1000)
    await importMembers(
      db,
      created.programId,
      Array.from({ length: Math.min(1000, members - m) }, (_, i) => ({ externalId: `bench-${m + i}` })),
    );
  url = stack.apiUrl;
  key = created.keys.admin;
  stop = stack.stop;
} else {
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      res.setHeader("content-type", "application/json");
      if (req.method === "GET") return res.end(JSON.stringify({ currency: "USD" }));
      const parts = JSON.parse(body).members as Array<{ lots: Array<{ points: number }> }>;
      res.end(
        JSON.stringify({
          results: parts.map((p, index) => ({
            index,
            memberId: `mem_${index}`,
            status: "imported",
            points: p.lots.reduce((s, l) => s + l.points, 0),
          })),
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  key = "le_admin_bench";
  stop = () => new Promise<void>((r) => server.close(() => r()));
}

// 3. The importer, sampled.
const started = Date.now();
const child = spawn(
  process.execPath,
  ["--import", "tsx", "scripts/import.ts", "--kind", "balances", "--file", file, "--batch", values.batch!, "--quiet"],
  { cwd: root, env: { ...process.env, LOYALTY_ADMIN_KEY: key, LOYALTY_URL: url }, stdio: ["ignore", "pipe", "inherit"] },
);
let stdout = "";
child.stdout!.on("data", (d) => (stdout += d));
const kb = (field: string) => {
  try {
    return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1] ?? 0);
  } catch {
    return 0;
  }
};
let peak = 0;
const samples: number[] = [];
const timer = setInterval(() => {
  peak = Math.max(peak, kb("VmHWM"));
  const rss = kb("VmRSS");
  if (rss) samples.push(rss);
}, 200);
const code = await new Promise<number | null>((r) => child.once("exit", r));
clearInterval(timer);
await stop();
rmSync(dir, { recursive: true, force: true });
const summary = JSON.parse(stdout.trim().split("\n").pop() ?? "{}");
const seconds = (Date.now() - started) / 1000;
console.log(
  JSON.stringify({
    target: values.stack ? "local stack" : "in-process answerer",
    exitCode: code,
    rows,
    members,
    imported: summary.members,
    points: summary.points,
    seconds,
    rowsPerSecond: Math.round(rows / seconds),
    peakRssMb: Math.round(Math.max(peak, ...samples) / 1024),
    rssAtHalfMb: Math.round((samples[Math.floor(samples.length / 2)] ?? 0) / 1024),
    rssAtEndMb: Math.round((samples[samples.length - 1] ?? 0) / 1024),
  }),
);
