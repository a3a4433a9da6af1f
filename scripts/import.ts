/**
 * `npm run import -- --program <id> --kind members|transactions|erasures --file <csv|ndjson> [--batch 500] [--restart]`
 *
 * `erasures` rows name a member by `memberId` or `externalId`; each is erased as by the API
 * (one batch per member, see src/services/members/erasure.ts). To re-apply erasures after a restore,
 * export `SELECT member_id AS memberId FROM erased_members WHERE program_id = ?` as NDJSON
 * before restoring and import it afterwards.
 *
 * Streams the file, validates each row with the API's zod schemas, writes in batches through
 * the same domain code as the API (transactions with the ledger's semantics, idempotent by
 * orderId), shows a progress bar with rate and ETA, writes rejected rows with their reason to
 * `<file>.errors.ndjson`, and resumes after a crash from `<file>.checkpoint.json` without
 * duplicates (a batch commits atomically; already-imported orders are skipped anyway).
 */
import { createWriteStream, existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import cliProgress from "cli-progress";
import { eq } from "drizzle-orm";
import { programs } from "../schema";
import { database } from "../src/db/client";
import { importErasures, importMembers, importTransactions } from "../src/services/admin/bulk-import";
import { coerceCsvRecord, ImportErasureRow, ImportMemberRow, ImportTransactionRow } from "../src/services/admin/import-rows";
import { databaseEnv } from "./lib/database-env";
import { streamRecords } from "./lib/stream-records";

const { values } = parseArgs({
  options: {
    program: { type: "string" },
    kind: { type: "string" },
    file: { type: "string" },
    batch: { type: "string", default: "500" },
    restart: { type: "boolean", default: false },
    quiet: { type: "boolean", default: false },
  },
});
const kinds = ["members", "transactions", "erasures"] as const;
if (!values.program || !values.file || !kinds.includes(values.kind as never)) {
  console.error(
    "usage: npm run import -- --program <id> --kind members|transactions|erasures --file <csv|ndjson> [--batch 500] [--restart]",
  );
  process.exit(2);
}
const file = values.file;
const kind = values.kind as (typeof kinds)[number];
const batchSize = Math.max(1, Math.min(5000, Number(values.batch)));
const env = databaseEnv();
const db = database(env);
const [program] = await db.select().from(programs).where(eq(programs.id, values.program)).limit(1);
if (!program) {
  console.error(`program ${values.program} not found at ${env.LIBSQL_URL}`);
  process.exit(2);
}

const checkpointFile = `${file}.checkpoint.json`;
const errorsFile = `${file}.errors.ndjson`;
const fingerprint = `${statSync(file).size}:${kind}:${program.id}`;
let resumeAfterLine = 0;
if (values.restart) rmSync(checkpointFile, { force: true });
else if (existsSync(checkpointFile)) {
  const saved = JSON.parse(readFileSync(checkpointFile, "utf8"));
  if (saved.fingerprint === fingerprint) resumeAfterLine = saved.line;
}
const errors = createWriteStream(errorsFile, { flags: resumeAfterLine > 0 ? "a" : "w" });
const schema = { members: ImportMemberRow, transactions: ImportTransactionRow, erasures: ImportErasureRow }[kind];

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
const totals = { rows: 0, accepted: 0, rejected: 0, imported: 0, skippedExisting: 0, membersCreated: 0, pointsEarned: 0, erased: 0 };
let pending: { line: number; row: unknown }[] = [];
let percent = 0;

async function flush() {
  if (pending.length === 0) return;
  const rows = pending.map((p) => p.row);
  if (kind === "members") {
    const r = await importMembers(db, program.id, rows as ImportMemberRow[]);
    totals.imported += r.inserted;
    totals.skippedExisting += rows.length - r.inserted;
  } else if (kind === "erasures") {
    const r = await importErasures(db, program.id, rows as ImportErasureRow[]);
    totals.erased += r.erased;
    for (const i of r.missing) {
      totals.accepted--;
      totals.rejected++;
      errors.write(`${JSON.stringify({ line: pending[i].line, reason: "no member of this program has this id", row: pending[i].row })}\n`);
    }
  } else {
    const r = await importTransactions(db, program, rows as ImportTransactionRow[]);
    totals.imported += r.imported;
    totals.skippedExisting += r.skippedExisting;
    totals.membersCreated += r.membersCreated;
    totals.pointsEarned += r.pointsEarned;
  }
  writeFileSync(checkpointFile, JSON.stringify({ fingerprint, line: pending[pending.length - 1].line }));
  pending = [];
}

for await (const { line, record, error } of streamRecords(file, (read, total) => (percent = Math.floor((read / total) * 100)))) {
  if (line <= resumeAfterLine) continue;
  totals.rows++;
  const parsed = record ? schema.safeParse(/\.csv$/i.test(file) ? coerceCsvRecord(record as Record<string, string>) : record) : null;
  if (!parsed?.success) {
    totals.rejected++;
    const reason = error ?? parsed?.error.issues.map((i) => `${i.path.join(".") || "(row)"}: ${i.message}`).join("; ");
    errors.write(`${JSON.stringify({ line, reason, row: record })}\n`);
  } else if (kind === "transactions" && (parsed.data as ImportTransactionRow).currency.toUpperCase() !== program.currency) {
    totals.rejected++;
    errors.write(`${JSON.stringify({ line, reason: `currency must be ${program.currency}`, row: record })}\n`);
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
