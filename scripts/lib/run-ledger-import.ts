import { closeSync, existsSync, openSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from "node:fs";
import cliProgress from "cli-progress";
import { coerceCsvRecord, ImportBalanceRow, ImportMemberRow, ImportTransactionRow } from "../../src/services/admin/import-rows";
import { MAX_IMPORT_MEMBERS, MAX_IMPORT_PROFILES, MAX_MEMBER_ROWS } from "../../src/services/admin/ledger-import";
import {
  applyResults,
  emptyTotals,
  FatalImportError,
  fileSha256,
  historyOf,
  type LedgerImportKind,
  type MemberGroup,
  openingBalanceOf,
  postBatch,
  type RowError,
  readCheckpoint,
  writeCheckpoint,
} from "./ledger-import";
import { streamRecords } from "./stream-records";

export type LedgerImportOptions = {
  kind: LedgerImportKind;
  award: "rules" | "none" | null;
  file: string;
  url: string;
  key: string;
  /** Rows per request (a request also carries at most MAX_IMPORT_MEMBERS members). */
  batchRows: number;
  restart: boolean;
  quiet: boolean;
};

/** Below the API's 1 MB body limit, with room for the JSON around the rows. */
const BATCH_BYTES = 700_000;

type OpenGroup = { externalId: string; lines: number[]; rows: unknown[]; parsed: unknown[]; reason?: string };

const issues = (error: { issues: Array<{ path: PropertyKey[]; message: string }> }) =>
  error.issues.map((i) => `${i.path.join(".") || "(row)"}: ${i.message}`).join("; ");

/**
 * Stream the file into member groups and batches, POST each batch, and checkpoint after every
 * answered batch: the last line all of whose rows are answered (or rejected), the errors file's
 * length and the totals. A run killed at any point and started again skips to that line, cuts
 * the errors file back to that length, and sends the rest; a batch that was applied but not
 * answered before the kill is answered `replayed` (nothing new written).
 */
export async function runLedgerImport(o: LedgerImportOptions) {
  const started = Date.now();
  const program = await fetch(`${o.url}/v1/program`, { headers: { authorization: `Bearer ${o.key}` } });
  if (!program.ok) throw new FatalImportError(`GET /v1/program answered ${program.status}: ${await program.text()}`, program.status);
  const { currency } = (await program.json()) as { currency: string };

  const sha256 = await fileSha256(o.file);
  const checkpointPath = `${o.file}.checkpoint.json`;
  const errorsPath = `${o.file}.errors.ndjson`;
  const checkpointKey = { sha256, kind: o.kind, award: o.award };
  if (o.restart) rmSync(checkpointPath, { force: true });
  const saved = readCheckpoint(checkpointPath, checkpointKey);
  const totals = saved?.totals ?? emptyTotals();
  let errorsBytes = saved?.errorsBytes ?? 0;
  if (!saved || !existsSync(errorsPath)) writeFileSync(errorsPath, "");
  else if (statSync(errorsPath).size > errorsBytes) truncateSync(errorsPath, errorsBytes);
  const errorsFd = openSync(errorsPath, "a");
  const writeErrors = (errors: RowError[]) => {
    for (const e of errors) {
      const text = `${JSON.stringify(e)}\n`;
      writeSync(errorsFd, text);
      errorsBytes += Buffer.byteLength(text);
    }
  };

  const bar = new cliProgress.SingleBar(
    {
      format: "{bar} {percentage}% | {rows} rows | {rate} rows/s | ETA {eta_formatted} | members {members} | rejected {rejected}",
      noTTYOutput: !o.quiet,
      notTTYSchedule: 2000,
      etaBuffer: 50,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  );
  if (!o.quiet) bar.start(100, 0, { rows: totals.rows, rate: 0, members: totals.members, rejected: totals.rejected });
  let percent = 0;
  const csv = /\.csv$/i.test(o.file);

  // The batch being filled: whole member groups, and rejected rows not in any group sent.
  let batch: MemberGroup[] = [];
  let batchRows = 0;
  // Roughly the request body's size so far: a batch is sent before it nears the API's 1 MB limit.
  let batchBytes = 0;
  const full = () => batchRows >= o.batchRows || batchBytes >= BATCH_BYTES;
  let batchErrors: RowError[] = [];
  // Transactions: a batch's members by externalId (a member's orders in one part).
  const byMember = new Map<string, MemberGroup>();
  const lastLine = saved?.line ?? 0;

  const flush = async (doneThrough: number) => {
    const sendable = batch.filter((g) => g.body !== null);
    if (sendable.length > 0) {
      const members = sendable.map((g) => g.body);
      const body = o.kind === "transactions" ? { award: o.award, members } : { members };
      const answer = await postBatch(`${o.url}/v1/imports/${o.kind}`, o.key, body, {
        onRetry: (why) => !o.quiet && process.stderr.write(`\nretrying a batch (${why})\n`),
      });
      batchErrors.push(...applyResults(o.kind, sendable, answer.results, totals));
    }
    writeErrors(batchErrors.sort((a, b) => a.line - b.line));
    writeCheckpoint(checkpointPath, { ...checkpointKey, line: doneThrough, errorsBytes, totals });
    batch = [];
    batchRows = 0;
    batchBytes = 0;
    batchErrors = [];
    byMember.clear();
  };

  const reject = (line: number, reason: string, row: unknown) => {
    totals.rejected++;
    batchErrors.push({ line, reason, row });
  };

  // Balances: the member whose consecutive rows are being read.
  let open: OpenGroup | null = null;
  const closeGroup = () => {
    if (!open) return;
    const g = open;
    open = null;
    const built = g.reason ? { reason: g.reason } : openingBalanceOf(g.externalId, g.parsed as ImportBalanceRow[]);
    if ("reason" in built) {
      // Its valid rows were counted accepted as they were read; none is sent.
      totals.accepted -= g.parsed.length;
      totals.rejected += g.parsed.length;
      for (const [i, line] of g.lines.entries()) batchErrors.push({ line, reason: built.reason, row: g.rows[i] });
      return;
    }
    batch.push({ externalId: g.externalId, lines: g.lines, rows: g.rows, body: built.body });
    batchRows += g.lines.length;
    batchBytes += JSON.stringify(built.body).length;
  };

  let previousLine = lastLine;
  for await (const { line, record, error } of streamRecords(o.file, (read, total) => (percent = Math.floor((read / total) * 100)))) {
    if (line <= lastLine) continue;
    totals.rows++;
    const input = record && csv ? coerceCsvRecord(record as Record<string, string>) : record;
    const externalId = typeof input?.externalId === "string" ? input.externalId.trim() : "";

    if (o.kind === "balances") {
      if (open && open.externalId !== externalId) {
        closeGroup();
        if (full() || batch.length >= MAX_IMPORT_MEMBERS) await flush(previousLine);
      }
      if (!externalId) reject(line, error ?? "externalId: required", record);
      else {
        open ??= { externalId, lines: [], rows: [], parsed: [] };
        const parsed = ImportBalanceRow.safeParse(input);
        open.lines.push(line);
        open.rows.push(record);
        if (!parsed.success) {
          // One bad row and none of the member's rows is sent: never half a member.
          open.reason ??= `line ${line}: ${issues(parsed.error)} (all of ${externalId}'s rows are rejected with it)`;
          totals.rejected++;
        } else {
          totals.accepted++;
          open.parsed.push(parsed.data);
          if (open.parsed.length > MAX_MEMBER_ROWS) open.reason ??= `more than ${MAX_MEMBER_ROWS} lots for ${externalId}`;
        }
      }
    } else if (o.kind === "members") {
      const parsed = input ? ImportMemberRow.safeParse(input) : null;
      if (!parsed?.success) reject(line, error ?? issues(parsed!.error), record);
      else {
        totals.accepted++;
        batch.push({ externalId: parsed.data.externalId, lines: [line], rows: [record], body: parsed.data });
        batchRows++;
        batchBytes += JSON.stringify(parsed.data).length;
        if (full() || batchRows >= MAX_IMPORT_PROFILES) await flush(line);
      }
    } else {
      const parsed = input ? ImportTransactionRow.safeParse(input) : null;
      if (!parsed?.success) reject(line, error ?? issues(parsed!.error), record);
      else if (parsed.data.currency.toUpperCase() !== currency) reject(line, `currency must be ${currency}`, record);
      else {
        totals.accepted++;
        let group = byMember.get(parsed.data.externalId);
        if (!group) {
          group = { externalId: parsed.data.externalId, lines: [], rows: [], body: null };
          byMember.set(group.externalId, group);
          batch.push(group);
        }
        group.lines.push(line);
        group.rows.push(parsed.data);
        batchRows++;
        batchBytes += JSON.stringify(parsed.data).length;
        if (full() || batch.length >= MAX_IMPORT_MEMBERS || group.lines.length >= MAX_MEMBER_ROWS) {
          for (const g of batch) g.body = historyOf(g.externalId, g.rows as ImportTransactionRow[]);
          await flush(line);
        }
      }
    }
    previousLine = line;
    if (!o.quiet)
      bar.update(percent, {
        rows: totals.rows,
        rate: Math.round(totals.rows / Math.max(0.001, (Date.now() - started) / 1000)),
        members: totals.members,
        rejected: totals.rejected,
      });
  }
  closeGroup();
  for (const g of batch) if (o.kind === "transactions") g.body = historyOf(g.externalId, g.rows as ImportTransactionRow[]);
  await flush(previousLine);
  if (!o.quiet) {
    bar.update(100, { rows: totals.rows, members: totals.members, rejected: totals.rejected });
    bar.stop();
  }
  closeSync(errorsFd);
  rmSync(checkpointPath, { force: true });
  return {
    ...totals,
    resumedAfterLine: saved?.line ?? 0,
    seconds: (Date.now() - started) / 1000,
    errorsFile: totals.rejected ? errorsPath : null,
  };
}
