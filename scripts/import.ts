/**
 * `npm run import -- --kind members|balances|transactions|erasures --file <csv|ndjson> [--batch 500] [--restart] [--quiet]`
 *
 * A migration goes through the API, never around it, with an admin key (`LOYALTY_ADMIN_KEY`)
 * and the API's URL (`--url`, default `LOYALTY_URL` or http://127.0.0.1:8787), not the database
 * token: `members` (profiles, idempotent on externalId), then `balances` (opening balances: a
 * member's lots with their own dates, lifetime figures, tier, referral code and legacy id) and
 * `transactions` (past purchases; `--award rules|none` is required: earn by the earning rules,
 * caps and budgets counted, or history only) are sent in batches to `POST /v1/imports/{kind}`.
 * Points-changing kinds are written member by member in each member's Durable Object, one
 * atomic write per member — an import never races a live checkout. A balances file lists each
 * member's rows together (one row per lot); one bad row rejects all of that member's rows.
 *
 * `erasures` go to the database (`--program <id>`, with LIBSQL_URL/LIBSQL_AUTH_TOKEN as the other
 * scripts): they are re-applied after a point-in-time restore. Rows name a member by `memberId`
 * or `externalId`; each is erased as by the API (one batch per member, see
 * src/services/members/erasure.ts). To re-apply erasures after a restore, export
 * `SELECT member_id AS memberId FROM erased_members WHERE program_id = ?` as NDJSON before
 * restoring and import it afterwards.
 *
 * Every kind streams the file (bounded memory at any size), validates each row with the API's
 * zod schemas, shows a progress bar with rate and ETA, writes rejected rows with their line and
 * reason to `<file>.errors.ndjson`, and resumes after a crash or kill from
 * `<file>.checkpoint.json` (kept per file content hash). Re-running a finished import writes
 * nothing new: the routes are idempotent per member, orders by orderId, members by externalId.
 */
import { createWriteStream, existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import cliProgress from "cli-progress";
import { eq } from "drizzle-orm";
import { programs } from "../schema";
import { database } from "../src/db/client";
import { importErasures } from "../src/services/admin/bulk-import";
import { coerceCsvRecord, ImportErasureRow } from "../src/services/admin/import-rows";
import { databaseEnv } from "./lib/database-env";
import { runLedgerImport } from "./lib/run-ledger-import";
import { streamRecords } from "./lib/stream-records";

const { values } = parseArgs({
  options: {
    program: { type: "string" },
    kind: { type: "string" },
    file: { type: "string" },
    award: { type: "string" },
    url: { type: "string", default: process.env.LOYALTY_URL ?? "http://127.0.0.1:8787" },
    batch: { type: "string", default: "500" },
    restart: { type: "boolean", default: false },
    quiet: { type: "boolean", default: false },
  },
});
const USAGE = `usage:
  LOYALTY_ADMIN_KEY=le_admin_… npm run import -- --kind balances --file <csv|ndjson> [--url http://127.0.0.1:8787] [--batch 500] [--restart] [--quiet]
  LOYALTY_ADMIN_KEY=le_admin_… npm run import -- --kind transactions --award rules|none --file <csv|ndjson> [--url …] [--batch 500] [--restart] [--quiet]
  LOYALTY_ADMIN_KEY=le_admin_… npm run import -- --kind members --file <csv|ndjson> [--url …] [--batch 500] [--restart] [--quiet]
  npm run import -- --program <id> --kind erasures --file <csv|ndjson> [--batch 500] [--restart] [--quiet]`;
const fail = (message: string): never => {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
};
const batchSize = Math.max(1, Math.min(5000, Number(values.batch)));
if (!values.file) fail("--file is required");
if (!existsSync(values.file!)) fail(`no such file: ${values.file}`);

if (values.kind === "members" || values.kind === "balances" || values.kind === "transactions") {
  const key = process.env.LOYALTY_ADMIN_KEY;
  if (!key) fail("LOYALTY_ADMIN_KEY (an admin key of the program) is required for members, balances and transactions");
  if (values.kind === "transactions" && values.award !== "rules" && values.award !== "none")
    fail(
      "--award is required for transactions: `rules` (orders earn by the earning rules, caps and budgets counted) or `none` (history only, no points)",
    );
  if (values.kind !== "transactions" && values.award) fail("--award applies to transactions only");
  if (values.program) fail("--program is not used for members, balances and transactions: the admin key names the program");
  const summary = await runLedgerImport({
    kind: values.kind as "members" | "balances" | "transactions",
    award: values.kind === "transactions" ? (values.award as "rules" | "none") : null,
    file: values.file!,
    url: values.url!.replace(/\/+$/, ""),
    key: key!,
    batchRows: batchSize,
    restart: values.restart!,
    quiet: values.quiet!,
  });
  console.log(JSON.stringify(summary));
  process.exit(0);
}

if (values.kind !== "erasures") fail("--kind must be members, balances, transactions or erasures");
if (!values.program) fail("--program is required for erasures");
const file = values.file!;
const env = databaseEnv();
const db = database(env);
const [program] = await db.select().from(programs).where(eq(programs.id, values.program!)).limit(1);
if (!program) fail(`program ${values.program} not found at ${env.LIBSQL_URL}`);

const checkpointFile = `${file}.checkpoint.json`;
const errorsFile = `${file}.errors.ndjson`;
const fingerprint = `${statSync(file).size}:erasures:${program.id}`;
let resumeAfterLine = 0;
if (values.restart) rmSync(checkpointFile, { force: true });
else if (existsSync(checkpointFile)) {
  const saved = JSON.parse(readFileSync(checkpointFile, "utf8"));
  if (saved.fingerprint === fingerprint) resumeAfterLine = saved.line;
}
const errors = createWriteStream(errorsFile, { flags: resumeAfterLine > 0 ? "a" : "w" });

const bar = new cliProgress.SingleBar(
  {
    format: "{bar} {percentage}% | {rows} rows | {rate} rows/s | ETA {eta_formatted} | rejected {rejected}",
    noTTYOutput: !values.quiet,
    notTTYSchedule: 2000,
    etaBuffer: 50,
  },
  cliProgress.Presets.shades_classic,
);
if (!values.quiet) bar.start(100, 0, { rows: 0, rate: 0, rejected: 0 });
const started = Date.now();
const totals = { rows: 0, accepted: 0, rejected: 0, erased: 0 };
let pending: { line: number; row: unknown }[] = [];
let percent = 0;

async function flush() {
  if (pending.length === 0) return;
  const rows = pending.map((p) => p.row);
  const r = await importErasures(db, program.id, rows as ImportErasureRow[]);
  totals.erased += r.erased;
  for (const i of r.missing) {
    totals.accepted--;
    totals.rejected++;
    errors.write(`${JSON.stringify({ line: pending[i].line, reason: "no member of this program has this id", row: pending[i].row })}\n`);
  }
  writeFileSync(checkpointFile, JSON.stringify({ fingerprint, line: pending[pending.length - 1].line }));
  pending = [];
}

for await (const { line, record, error } of streamRecords(file, (read, total) => (percent = Math.floor((read / total) * 100)))) {
  if (line <= resumeAfterLine) continue;
  totals.rows++;
  const parsed = record
    ? ImportErasureRow.safeParse(/\.csv$/i.test(file) ? coerceCsvRecord(record as Record<string, string>) : record)
    : null;
  if (!parsed?.success) {
    totals.rejected++;
    const reason = error ?? parsed?.error.issues.map((i) => `${i.path.join(".") || "(row)"}: ${i.message}`).join("; ");
    errors.write(`${JSON.stringify({ line, reason, row: record })}\n`);
  } else {
    totals.accepted++;
    pending.push({ line, row: parsed.data });
    if (pending.length >= batchSize) await flush();
  }
  if (!values.quiet)
    bar.update(percent, {
      rows: totals.rows,
      rate: Math.round(totals.rows / Math.max(0.001, (Date.now() - started) / 1000)),
      rejected: totals.rejected,
    });
}
await flush();
if (!values.quiet) {
  bar.update(100);
  bar.stop();
}
errors.end();
rmSync(checkpointFile, { force: true });
const summary = {
  ...totals,
  resumedAfterLine: resumeAfterLine,
  seconds: (Date.now() - started) / 1000,
  errorsFile: totals.rejected ? errorsFile : null,
};
console.log(JSON.stringify(summary));
