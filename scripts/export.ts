/**
 * `npm run export -- --kind members|ledger|orders|segment-members|kpis [--format ndjson|csv]
 *   [--out <file>] [--since <ISO instant>] [--segment <segmentId>] [--limit 10000]
 *   [--url http://127.0.0.1:8787] [--restart]`
 *
 * Follows `GET /v1/exports/{kind}` page by page (`X-Next-Cursor`) into one file, streaming each
 * response to disk (bounded memory at any size), with the rows and rate so far on stderr. Uses
 * an admin key (`LOYALTY_ADMIN_KEY`), not the database token. Interrupted, it resumes from
 * `<out>.cursor` (the cursor after the last complete page; a partial page is cut off first).
 * For incremental sync, pass `--since` with the start time of the previous run.
 */
import { createWriteStream, existsSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";

const kinds = ["members", "ledger", "orders", "segment-members", "kpis"] as const;
const { values } = parseArgs({
  options: {
    kind: { type: "string" },
    format: { type: "string", default: "ndjson" },
    out: { type: "string" },
    since: { type: "string" },
    segment: { type: "string" },
    limit: { type: "string", default: "10000" },
    url: { type: "string", default: process.env.LOYALTY_URL ?? "http://127.0.0.1:8787" },
    restart: { type: "boolean", default: false },
  },
});
const key = process.env.LOYALTY_ADMIN_KEY;
if (!kinds.includes(values.kind as never) || !["ndjson", "csv"].includes(values.format ?? "") || !key) {
  console.error(
    "usage: LOYALTY_ADMIN_KEY=le_admin_… npm run export -- --kind members|ledger|orders|segment-members|kpis [--format ndjson|csv] [--out file] [--since ISO] [--segment id] [--limit 10000] [--url http://127.0.0.1:8787] [--restart]",
  );
  process.exit(2);
}
const kind = values.kind as (typeof kinds)[number];
const format = values.format as "ndjson" | "csv";
const out = values.out ?? `${kind}.${format}`;
const cursorFile = `${out}.cursor`;

// Resume: the cursor after the last complete page, and the file length at that point.
let cursor: string | null = null;
if (values.restart) rmSync(cursorFile, { force: true });
else if (existsSync(cursorFile)) {
  const saved = JSON.parse(readFileSync(cursorFile, "utf8")) as { cursor: string; bytes: number };
  cursor = saved.cursor;
  if (existsSync(out) && statSync(out).size > saved.bytes) truncateSync(out, saved.bytes);
  console.error(`resuming ${out} after ${saved.bytes} bytes`);
}
const resumed = cursor !== null;
if (!resumed) writeFileSync(out, "");

const started = Date.now();
let rows = 0;
const progress = () => {
  const rate = Math.round(rows / Math.max(0.001, (Date.now() - started) / 1000));
  process.stderr.write(`\r${kind}: ${rows} rows, ${rate} rows/s`);
};

for (;;) {
  const query = new URLSearchParams({ limit: values.limit ?? "10000" });
  if (cursor) query.set("cursor", cursor);
  if (values.since) query.set("updatedSince", values.since);
  if (values.segment) query.set("segmentId", values.segment);
  const res = await fetch(`${values.url}/v1/exports/${kind}?${query}`, {
    headers: { authorization: `Bearer ${key}`, accept: format === "csv" ? "text/csv" : "application/x-ndjson" },
  });
  if (!res.ok || !res.body) {
    console.error(`\n${res.status} ${await res.text()}`);
    process.exit(1);
  }
  const file = createWriteStream(out, { flags: "a" });
  const decoder = new TextDecoder();
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    if (!file.write(chunk)) await new Promise<void>((resolve) => file.once("drain", () => resolve()));
    rows += (decoder.decode(chunk, { stream: true }).match(/\n/g) ?? []).length;
    progress();
  }
  await new Promise<void>((resolve, reject) => file.end((err?: Error | null) => (err ? reject(err) : resolve())));
  const next = res.headers.get("x-next-cursor");
  if (!next) break;
  cursor = next;
  writeFileSync(cursorFile, JSON.stringify({ cursor, bytes: statSync(out).size }));
}
rmSync(cursorFile, { force: true });
// CSV rows count their header line.
if (format === "csv" && !resumed) rows = Math.max(0, rows - 1);
progress();
process.stderr.write(`\nwrote ${out}\n`);
