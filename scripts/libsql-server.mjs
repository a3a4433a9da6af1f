#!/usr/bin/env node
/**
 * Local libSQL server speaking Hrana over HTTP (the protocol of Turso / sqld), so `@libsql/client`
 * (Node and web builds) can use an `http://` URL against a local database file.
 *
 *   node scripts/libsql-server.mjs [--host 127.0.0.1] [--port 8080] [--dir .data] [--db loyalty|:memory:]
 *                                  [--auth-token TOKEN] [--enable-faults] [--log]
 *   (or env LIBSQL_SERVER_HOST / _PORT / _DIR / _DB / _AUTH_TOKEN, LIBSQL_SERVER_ENABLE_FAULTS=1, LIBSQL_SERVER_LOG=1)
 *
 * Endpoints: GET /v2, /v3 (version probes), /health; POST /v2/pipeline, /v3/pipeline, /v3/cursor;
 * GET/POST/DELETE /__faults (only with --enable-faults; `{"unavailable": true}` drops every statement
 * request's connection until DELETE, an outage). JSON only: /v3-protobuf is a 404, so clients
 * fall back to JSON.
 *
 * Security: it runs whatever SQL it is sent, so it only answers callers that hold its token and
 * never a web page. Every request except the probes needs `Authorization: Bearer <token>`; without
 * --auth-token the token is read from <dir>/libsql-token, generated there (mode 0600) on first start
 * and reused (`npm run dev` and the CLI scripts read it from there). Requests a browser makes are
 * refused with 403 before anything else (see `browserRequestProblem`), so a page open on this machine
 * can neither run SQL nor probe for the server.
 *
 * Concurrency: libsql calls are synchronous, so a connection must never wait for a lock held by another
 * stream (that would freeze the event loop). Each stream has its own connection and a gate serialises
 * them: a stream left inside a transaction owns the database until it commits, rolls back, closes or
 * expires; other streams' requests queue asynchronously behind it, except requests made only of plain
 * SELECTs, which read the last committed snapshot (WAL) without waiting.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import Database from "libsql";

const MAX_BODY_BYTES = 64 * 1024 * 1024;
const EXPIRED_MEMORY_MS = 5 * 60_000; // remember expired batons, to answer STREAM_EXPIRED
const [MIN_I64, MAX_I64] = [-(2n ** 63n), 2n ** 63n - 1n];

/** An HTTP-level failure. Without `code` it is a protocol error, sent as text like sqld does. */
class HttpError extends Error {
  constructor(status, message, code) {
    super(message);
    Object.assign(this, { status, code });
  }
}
/** A failure of one stream request or batch step, reported inside a 200 response. */
class StmtError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

const fail = (message) => {
  throw new HttpError(400, message);
};
const obj = (v, what) => (v !== null && typeof v === "object" && !Array.isArray(v) ? v : fail(`${what} must be an object`));
const arr = (v, what) => (v == null ? [] : Array.isArray(v) ? v : fail(`${what} must be an array`));

// --- values and errors -------------------------------------------------------------------------

function valueFromProto(v) {
  switch (obj(v, "value").type) {
    case "null":
      return null;
    case "integer": {
      if (typeof v.value !== "string" || !/^-?\d+$/.test(v.value)) fail("integer value must be a decimal string");
      const n = BigInt(v.value);
      return n >= MIN_I64 && n <= MAX_I64 ? n : fail("integer value is out of the 64-bit range");
    }
    case "float":
      return typeof v.value === "number" ? v.value : fail("float value must be a number");
    case "text":
      return typeof v.value === "string" ? v.value : fail("text value must be a string");
    case "blob":
      return typeof v.base64 === "string" ? Buffer.from(v.base64, "base64") : fail("blob value needs base64");
    default:
      return fail(`Unknown value type ${JSON.stringify(v.type)}`);
  }
}

function valueToProto(v) {
  if (v === null || v === undefined) return { type: "null" };
  if (typeof v === "bigint") return { type: "integer", value: v.toString() };
  if (typeof v === "number") return { type: "float", value: v };
  if (typeof v === "string") return { type: "text", value: v };
  return { type: "blob", base64: (Buffer.isBuffer(v) ? v : Buffer.from(v)).toString("base64") };
}

/** Like sqld: the primary SQLite code (SQLITE_CONSTRAINT); the extended one rides along. */
function toProtoError(e) {
  if (e instanceof HttpError) throw e; // protocol errors fail the whole HTTP request
  if (e instanceof StmtError) return { message: e.message, code: e.code };
  if (typeof e?.code === "string" && e.code.startsWith("SQLITE_")) {
    return { message: `SQLite error: ${e.message}`, code: e.code.split("_").slice(0, 2).join("_"), extended_code: e.code };
  }
  return { message: String(e?.message ?? e), code: "SQLITE_UNKNOWN" };
}

// --- SQL text helpers (no parser: enough for routing and `describe`) --------------------------

const stripLeading = (sql) => sql.replace(/^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*/, "");
/** Conservative: these never write, so they may run beside another stream's transaction. */
const isReadOnlySql = (sql) => typeof sql === "string" && /^(select|values|explain)\b/i.test(stripLeading(sql));

function paramNames(sql) {
  const re = /'(?:[^']|'')*'|"(?:[^"]|"")*"|`[^`]*`|\[[^\]]*\]|--[^\n]*|\/\*[\s\S]*?\*\/|(\?\d*|[:@$][A-Za-z_]\w*)/g;
  const names = [];
  for (const [, p] of sql.matchAll(re)) {
    if (p === "?") names.push(null);
    else if (p && !names.includes(p)) names.push(p);
  }
  return names;
}

function resolveSql(sqls, sql, sqlId) {
  if (sql != null && sqlId != null) fail("Both sql and sql_id were given");
  if (typeof sql === "string") return sql;
  if (sqlId == null) fail("Neither sql nor sql_id was given");
  return sqls.get(sqlId) ?? fail(`No SQL text is stored under sql_id ${sqlId}`);
}

// --- streams: one connection each, plus the store_sql cache -----------------------------------

function openConnection(file) {
  const conn = new Database(file);
  conn.defaultSafeIntegers(true); // 64-bit integers come back as BigInt
  // The gate keeps writers apart, so a lock wait would be a bug: fail fast rather than freeze.
  conn.exec("PRAGMA busy_timeout = 100; PRAGMA synchronous = NORMAL");
  return conn;
}

class Stream {
  constructor(file) {
    this.id = crypto.randomBytes(16).toString("base64url");
    this.seq = 0;
    this.conn = openConnection(file);
    this.probe = this.conn.prepare("SELECT changes(), last_insert_rowid(), total_changes()").raw(true);
    this.totalChanges = 0n;
    this.dirty = false; // row changes not yet seen committed (for dropConnectionAfterCommit)
    this.sqls = new Map();
    this.busy = true; // a request is using it
    this.closed = false;
  }
  get baton() {
    return `${this.id}.${this.seq}`;
  }
  get inTransaction() {
    return !this.closed && this.conn.inTransaction;
  }
  /** changes() is stale after non-DML statements, so total_changes() tells whether this one wrote. */
  afterStatement() {
    const [changes, rowid, total] = this.probe.get();
    const wrote = total !== this.totalChanges;
    this.totalChanges = total;
    this.dirty ||= wrote;
    if (!wrote) return { affected_row_count: 0, last_insert_rowid: null, rows_written: 0 };
    return { affected_row_count: Number(changes), last_insert_rowid: rowid.toString(), rows_written: Number(changes) };
  }
  close() {
    this.closed = true;
    clearTimeout(this.timer);
    try {
      if (this.conn.inTransaction) this.conn.exec("ROLLBACK");
    } catch {
      // closing rolls back anyway
    }
    this.conn.close();
  }
}

function bindParams(stmt) {
  const args = arr(stmt.args, "stmt.args");
  const named = arr(stmt.named_args, "stmt.named_args");
  if (named.length === 0) return args.map(valueFromProto);
  if (args.length > 0)
    throw new StmtError("Specifying both positional and named arguments is not supported", "ARGS_BOTH_POSITIONAL_AND_NAMED");
  const params = {}; // libsql matches `:a`, `@a`, `$a` (and `?1`) by the bare name
  for (const arg of named) {
    if (typeof obj(arg, "named arg").name !== "string") fail("named arg needs a name");
    params[arg.name.replace(/^[:@$?]/, "")] = valueFromProto(arg.value);
  }
  return params;
}

const columnsOf = (prepared) => (prepared.reader ? prepared.columns().map((c) => ({ name: c.name, decltype: c.type ?? null })) : []);

function executeStmt(stream, stmt) {
  const sql = resolveSql(stream.sqls, obj(stmt, "stmt").sql, stmt.sql_id);
  const params = bindParams(stmt);
  const prepared = stream.conn.prepare(sql);
  const cols = columnsOf(prepared);
  const rows = [];
  if (prepared.reader) {
    const wantRows = stmt.want_rows ?? true; // without it, still run to completion (RETURNING writes)
    for (const row of prepared.raw(true).iterate(params)) if (wantRows) rows.push(row.map(valueToProto));
  } else {
    prepared.run(params);
  }
  return { cols, rows, ...stream.afterStatement() };
}

function describe(stream, sql) {
  const cols = columnsOf(stream.conn.prepare(sql));
  const params = paramNames(sql).map((name) => ({ name }));
  return { params, cols, is_explain: /^explain\b/i.test(stripLeading(sql)), is_readonly: isReadOnlySql(sql) };
}

// --- batches ---------------------------------------------------------------------------------

function checkCond(c, i) {
  switch (obj(c, "batch condition").type) {
    case "ok":
    case "error":
      if (!Number.isInteger(c.step) || c.step < 0 || c.step >= i) fail(`Condition of step ${i} refers to step ${c.step}`);
      return;
    case "not":
      return checkCond(c.cond, i);
    case "and":
    case "or":
      for (const x of arr(c.conds, "conds")) checkCond(x, i);
      return;
    case "is_autocommit":
      return;
    default:
      fail(`Unknown batch condition type ${JSON.stringify(c.type)}`);
  }
}

function evalCond(c, results, errors, stream) {
  const ev = (x) => evalCond(x, results, errors, stream);
  switch (c.type) {
    case "ok":
      return results[c.step] !== null;
    case "error":
      return errors[c.step] !== null;
    case "not":
      return !ev(c.cond);
    case "and":
      return arr(c.conds).every(ev);
    case "or":
      return arr(c.conds).some(ev);
    default:
      return !stream.conn.inTransaction; // is_autocommit
  }
}

/** Steps run in order; a skipped step has neither result nor error. `fault` forces one step to fail. */
function executeBatch(stream, batch, fault) {
  const steps = arr(obj(batch, "batch").steps, "batch.steps");
  steps.forEach((step, i) => {
    resolveSql(stream.sqls, obj(obj(step, "batch step").stmt, "stmt").sql, step.stmt.sql_id); // validate all first
    if (step.condition != null) checkCond(step.condition, i);
  });
  const results = [];
  const errors = [];
  steps.forEach((step, i) => {
    let [result, error] = [null, null];
    if (step.condition == null || evalCond(step.condition, results, errors, stream)) {
      try {
        if (fault?.failBatchOnStep === i) {
          throw new StmtError(fault.message ?? `disk I/O error (injected fault at batch step ${i})`, fault.code ?? "SQLITE_IOERR");
        }
        result = executeStmt(stream, step.stmt);
      } catch (e) {
        error = toProtoError(e);
      }
    }
    results.push(result);
    errors.push(error);
  });
  return { step_results: results, step_errors: errors };
}

/** The cursor endpoint sends the same batch result as NDJSON entries. */
function cursorEntries({ step_results, step_errors }) {
  return step_results.flatMap((r, step) => {
    if (step_errors[step]) return [{ type: "step_error", step, error: step_errors[step] }];
    if (!r) return [];
    const end = { type: "step_end", affected_row_count: r.affected_row_count, last_insert_rowid: r.last_insert_rowid };
    return [{ type: "step_begin", step, cols: r.cols }, ...r.rows.map((row) => ({ type: "row", row })), end];
  });
}

/** True when nothing in these requests can write, so they need not wait for another's transaction. */
function isReadOnlyPipeline(stream, requests) {
  const sqls = new Map(stream.sqls);
  const readOnly = (stmt) => isReadOnlySql(stmt?.sql ?? sqls.get(stmt?.sql_id));
  return requests.every((r) => {
    switch (r?.type) {
      case "store_sql":
        sqls.set(r.sql_id, r.sql);
        return true;
      case "close_sql":
      case "describe":
      case "get_autocommit":
      case "close":
        return true;
      case "execute":
        return readOnly(r.stmt);
      case "batch":
        return Array.isArray(r.batch?.steps) && r.batch.steps.every((s) => readOnly(s?.stmt));
      default:
        return false;
    }
  });
}

// --- the gate: at most one stream sits inside a transaction; the others queue without blocking ---

class Gate {
  owner = null;
  queue = [];

  run(stream, readOnly, fn) {
    return new Promise((resolve, reject) => {
      const job = { stream, fn, resolve, reject };
      if (this.owner === null || this.owner === stream || readOnly) {
        this.#exec(job);
        this.#drain();
      } else {
        this.queue.push(job);
      }
    });
  }
  /** Re-check a stream that changed outside a job (expired, dropped), then let waiters in. */
  settle(stream) {
    this.#update(stream);
    this.#drain();
  }
  abort(error) {
    for (const job of this.queue.splice(0)) job.reject(error);
  }
  #exec(job) {
    try {
      job.resolve(job.fn());
    } catch (e) {
      job.reject(e);
    }
    this.#update(job.stream);
  }
  #update(stream) {
    if (stream.inTransaction) this.owner = stream;
    else if (this.owner === stream) this.owner = null;
  }
  #drain() {
    while (this.owner === null && this.queue.length > 0) this.#exec(this.queue.shift());
  }
}

// --- HTTP ------------------------------------------------------------------------------------

function send(res, status, body, type) {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) });
  res.end(body);
}
const sendJson = (res, status, value) => send(res, status, JSON.stringify(value), "application/json");
const sendText = (res, status, text) => send(res, status, text, "text/plain");

function sendError(res, e) {
  if (res.headersSent || res.destroyed) return; // e.g. the client went away mid-request
  if (!(e instanceof HttpError)) {
    console.error("libsql server: internal error", e);
    return sendText(res, 500, `Internal server error: ${e?.message ?? e}`);
  }
  if (e.code) return sendJson(res, e.status, { message: e.message, code: e.code });
  sendText(res, e.status, e.message);
}

async function readJson(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, "Request body is too large");
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch (e) {
    return fail(`Request body is not valid JSON: ${e.message}`);
  }
}

/**
 * Why a request looks like a web page made it, or null. A page may send "simple" cross-origin
 * requests without a CORS preflight — a POST with a text/plain body, a form post — and though it
 * cannot read the answer, the SQL would still run. Browsers mark such requests: an Origin header
 * (every cross-origin and every POST request) and Sec-Fetch-Site (every request, in current
 * Chromium, Firefox and Safari). Node's own fetch sends `Sec-Fetch-Mode: cors` alone, so that
 * header is judged only by its value. Hrana clients always POST application/json, which a page can
 * only send after a preflight that this server never answers with CORS headers.
 */
export function browserRequestProblem(req) {
  const h = req.headers;
  if (h.origin !== undefined) return "it carries an Origin header";
  for (const name of ["sec-fetch-site", "sec-fetch-dest", "sec-fetch-user"]) if (h[name] !== undefined) return `it carries ${name}`;
  if (h["sec-fetch-mode"] !== undefined && h["sec-fetch-mode"] !== "cors") return `it carries sec-fetch-mode: ${h["sec-fetch-mode"]}`;
  if (req.method === "POST" && !/^application\/json\s*(;|$)/i.test(h["content-type"] ?? "")) return "a POST body must be application/json";
  return null;
}

class HranaServer {
  constructor({ file, authToken, enableFaults, streamTimeoutMs }) {
    Object.assign(this, { file, authToken, enableFaults, streamTimeoutMs });
    this.streams = new Map();
    this.expired = new Map();
    this.faults = [];
    this.gate = new Gate();
    this.closed = false;
    // A long-lived connection keeps the WAL alive between short-lived streams, so SQLite does not
    // checkpoint and delete it whenever the last stream closes.
    this.anchor = openConnection(file);
    this.anchor.exec("PRAGMA journal_mode = WAL");
  }

  async handle(req, res) {
    const { pathname } = new URL(req.url ?? "/", "http://localhost");
    const route = `${req.method} ${pathname.replace(/(.)\/+$/, "$1")}`;
    const browser = browserRequestProblem(req);
    if (browser) throw new HttpError(403, `Forbidden: this server does not answer web pages (${browser})`);
    if (["GET /", "GET /v2", "GET /v3"].includes(route))
      return sendText(res, 200, "Hello, this is a local libSQL server (Hrana over HTTP)");
    if (route === "GET /health") return sendText(res, 200, "ok");
    if (route === "GET /v3-protobuf") throw new HttpError(404, "Protobuf encoding is not supported");
    if (!this.authorized(req)) throw new HttpError(401, "Unauthorized: missing or invalid bearer token");
    if (this.enableFaults && /^POST \/v[23]\/(pipeline|cursor)$/.test(route) && this.faults.some((f) => f.unavailable === true)) {
      // An outage: every statement request loses its connection unanswered, until the fault is deleted.
      req.socket.destroy();
      return;
    }
    if (route === "POST /v2/pipeline" || route === "POST /v3/pipeline") return this.pipeline(req, res);
    if (route === "POST /v3/cursor") return this.cursor(req, res);
    if (this.enableFaults && /^(GET|POST|DELETE) \/__faults$/.test(route)) return this.faultsEndpoint(req, res);
    throw new HttpError(404, `Not found: ${req.method} ${pathname}`);
  }

  authorized(req) {
    const [got, want] = [Buffer.from(req.headers.authorization ?? ""), Buffer.from(`Bearer ${this.authToken}`)];
    return got.length === want.length && crypto.timingSafeEqual(got, want);
  }

  async pipeline(req, res) {
    const body = obj(await readJson(req), "request body");
    const requests = arr(body.requests, "requests");
    const stream = this.acquire(body.baton);
    const readOnly = isReadOnlyPipeline(stream, requests);
    const results = await this.runOnStream(stream, readOnly, () => requests.map((r) => this.streamRequest(stream, r)));
    const baton = this.release(stream);
    if (!this.dropAfterCommit(stream, req)) sendJson(res, 200, { baton, base_url: null, results });
  }

  async cursor(req, res) {
    const body = obj(await readJson(req), "request body");
    const batch = obj(body.batch, "batch");
    const stream = this.acquire(body.baton);
    const readOnly = isReadOnlyPipeline(stream, [{ type: "batch", batch }]);
    const result = await this.runOnStream(stream, readOnly, () => executeBatch(stream, batch, this.batchFault(batch)));
    const baton = this.release(stream);
    if (this.dropAfterCommit(stream, req)) return;
    const entries = [{ baton, base_url: null }, ...cursorEntries(result)];
    send(res, 200, entries.map((entry) => `${JSON.stringify(entry)}\n`).join(""), "application/x-ndjson");
  }

  streamRequest(stream, r) {
    obj(r, "stream request");
    if (stream.closed) fail("The stream was closed by an earlier request");
    try {
      return { type: "ok", response: this.handleRequest(stream, r) };
    } catch (e) {
      return { type: "error", error: toProtoError(e) };
    }
  }

  handleRequest(stream, r) {
    switch (r.type) {
      case "execute":
        return { type: "execute", result: executeStmt(stream, r.stmt) };
      case "batch":
        return { type: "batch", result: executeBatch(stream, r.batch, this.batchFault(r.batch)) };
      case "describe":
        return { type: "describe", result: describe(stream, resolveSql(stream.sqls, r.sql, r.sql_id)) };
      case "get_autocommit":
        return { type: "get_autocommit", is_autocommit: !stream.conn.inTransaction };
      case "close_sql":
        stream.sqls.delete(r.sql_id);
        return { type: "close_sql" };
      case "close":
        this.closeStream(stream);
        return { type: "close" };
      case "sequence":
        try {
          stream.conn.exec(resolveSql(stream.sqls, r.sql, r.sql_id));
        } finally {
          stream.afterStatement();
        }
        return { type: "sequence" };
      case "store_sql":
        if (!Number.isInteger(r.sql_id) || typeof r.sql !== "string") fail("store_sql needs sql_id and sql");
        if (stream.sqls.has(r.sql_id)) fail(`sql_id ${r.sql_id} is already stored`);
        stream.sqls.set(r.sql_id, r.sql);
        return { type: "store_sql" };
      default:
        return fail(`Unknown stream request type ${JSON.stringify(r.type)}`);
    }
  }

  /** A request without a baton opens a stream; with one, it continues that stream (once per baton). */
  acquire(baton) {
    if (this.closed) throw new HttpError(503, "Server is shutting down");
    if (baton == null) {
      const stream = new Stream(this.file);
      this.streams.set(stream.id, stream);
      return stream;
    }
    if (typeof baton !== "string") fail("baton must be a string");
    const [id, seq] = baton.split(".");
    const stream = this.streams.get(id);
    if (!stream && this.expired.has(id)) throw new HttpError(400, "The stream has expired due to inactivity", "STREAM_EXPIRED");
    if (!stream) fail("The baton is invalid");
    if (stream.busy || String(stream.seq) !== seq) fail("The baton was already used");
    stream.busy = true;
    stream.seq += 1;
    clearTimeout(stream.timer);
    return stream;
  }

  /** Returns the baton for the next request (null once the stream is closed) and arms the idle timer. */
  release(stream) {
    stream.busy = false;
    if (stream.closed) return null;
    stream.timer = setTimeout(() => this.expire(stream), this.streamTimeoutMs).unref();
    return stream.baton;
  }

  async runOnStream(stream, readOnly, fn) {
    try {
      return await this.gate.run(stream, readOnly, fn);
    } catch (e) {
      // Like sqld, a request that breaks the protocol loses its stream (and its open transaction).
      stream.busy = false;
      this.closeStream(stream);
      this.gate.settle(stream);
      throw e;
    }
  }

  closeStream(stream) {
    if (stream.closed) return;
    this.streams.delete(stream.id);
    stream.close();
  }

  expire(stream) {
    if (stream.busy || stream.closed) return;
    const now = Date.now();
    for (const [id, at] of this.expired) if (now - at > EXPIRED_MEMORY_MS) this.expired.delete(id);
    this.expired.set(stream.id, now);
    this.closeStream(stream); // rolls back an abandoned transaction
    this.gate.settle(stream);
  }

  // --- fault injection (reachable only with enableFaults) ---

  async faultsEndpoint(req, res) {
    if (req.method === "DELETE") this.faults = [];
    if (req.method === "POST") {
      const body = await readJson(req);
      for (const f of Array.isArray(body) ? body : [body]) {
        const step = obj(f, "fault").failBatchOnStep;
        if (step !== undefined && !(Number.isInteger(step) && step >= 0)) fail("failBatchOnStep must be an integer >= 0");
        if (step === undefined && f.dropConnectionAfterCommit !== true && f.unavailable !== true)
          fail("A fault needs failBatchOnStep, dropConnectionAfterCommit or unavailable");
        if (f.times !== undefined && !(Number.isInteger(f.times) && f.times > 0)) fail("times must be a positive integer");
        this.faults.push({ ...f, times: f.times ?? 1 });
      }
    }
    sendJson(res, 200, { faults: this.faults });
  }

  takeFault(match) {
    const i = this.faults.findIndex(match);
    if (i < 0) return undefined;
    const fault = this.faults[i];
    if (--fault.times <= 0) this.faults.splice(i, 1);
    return fault;
  }

  batchFault(batch) {
    const steps = Array.isArray(batch?.steps) ? batch.steps.length : 0;
    return this.takeFault((f) => f.failBatchOnStep !== undefined && f.failBatchOnStep < steps);
  }

  /** After a request that committed row changes, a pending fault may drop the socket unanswered. */
  dropAfterCommit(stream, req) {
    const committed = stream.dirty && !stream.inTransaction;
    if (committed) stream.dirty = false;
    if (!committed || !this.takeFault((f) => f.dropConnectionAfterCommit === true)) return false;
    req.socket.destroy();
    return true;
  }

  shutdown() {
    this.closed = true;
    this.gate.abort(new HttpError(503, "Server is shutting down"));
    for (const stream of [...this.streams.values()]) this.closeStream(stream);
    this.anchor.close();
  }
}

/** Where the local server keeps its token, inside its data directory. */
export const AUTH_TOKEN_FILE = "libsql-token";

/**
 * The token of the server whose data lives in `dir`: read from <dir>/libsql-token, or generated
 * there on first use (32 random bytes, mode 0600, the directory 0700 when created) and reused.
 */
export function localAuthToken(dir) {
  const file = path.join(dir, AUTH_TOKEN_FILE);
  const read = () => {
    // Readable by others (copied, or made by an older version): tighten it rather than trust it less.
    if ((fs.statSync(file).mode & 0o077) !== 0) fs.chmodSync(file, 0o600);
    return fs.readFileSync(file, "utf8").trim();
  };
  if (fs.existsSync(file)) {
    const token = read();
    if (token) return token;
    fs.rmSync(file);
  }
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const token = crypto.randomBytes(32).toString("base64url");
  try {
    fs.writeFileSync(file, `${token}\n`, { mode: 0o600, flag: "wx" });
    return token;
  } catch (e) {
    if (e.code === "EEXIST") return read(); // another start won the race: use its token
    throw e;
  }
}

function resolveDbFile(dir, name) {
  if (name === ":memory:") {
    // Streams need separate connections to one database, so ":memory:" is a throwaway file.
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "libsql-memory-"));
    return { file: path.join(tmp, "memory.db"), label: ":memory:", cleanup: () => fs.rmSync(tmp, { recursive: true, force: true }) };
  }
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name.endsWith(".db") ? name : `${name}.db`);
  return { file, label: file, cleanup: () => {} };
}

/**
 * Start the server; resolves once it listens. Without `authToken` it uses `localAuthToken(dir)`:
 * there is no way to run it without one. `close()` rolls back open transactions, closes every
 * connection and, for ":memory:", deletes the throwaway file.
 */
export async function startLibsqlServer(options = {}) {
  const { host = "127.0.0.1", port = 0, dir = ".data", name = "loyalty", enableFaults = false, log = false } = options;
  const { streamTimeoutMs = 10_000 } = options; // idle time before a stream expires (and rolls back)
  if (options.authToken !== undefined && (typeof options.authToken !== "string" || options.authToken.trim() === ""))
    throw new Error("authToken must be a non-empty string");
  const authToken = options.authToken ?? localAuthToken(dir);
  const db = resolveDbFile(dir, name);
  const hrana = new HranaServer({ file: db.file, authToken, enableFaults, streamTimeoutMs });
  const server = http.createServer((req, res) => {
    if (log) {
      const start = performance.now();
      res.on("close", () => console.log(`[libsql] ${req.method} ${req.url} ${res.statusCode} ${(performance.now() - start).toFixed(1)}ms`));
    }
    hrana.handle(req, res).catch((e) => sendError(res, e));
  });
  let closing;
  const close = () =>
    (closing ??= new Promise((resolve) => {
      hrana.shutdown();
      server.close(() => resolve(db.cleanup()));
      server.closeAllConnections();
    }));
  try {
    await new Promise((resolve, reject) => server.once("error", reject).listen(port, host, resolve));
  } catch (e) {
    await close();
    throw e;
  }
  const actualPort = server.address().port;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  return { url: `http://${urlHost}:${actualPort}`, port: actualPort, file: db.label, authToken, close };
}

// --- CLI -------------------------------------------------------------------------------------

function cliOptions(argv, env) {
  const str = (fallback) => ({ type: "string", default: fallback });
  const { values } = parseArgs({
    args: argv,
    options: {
      host: str(env.LIBSQL_SERVER_HOST || "127.0.0.1"),
      port: str(env.LIBSQL_SERVER_PORT || "8080"),
      dir: str(env.LIBSQL_SERVER_DIR || ".data"),
      db: str(env.LIBSQL_SERVER_DB || "loyalty"),
      "auth-token": { type: "string" },
      "enable-faults": { type: "boolean", default: env.LIBSQL_SERVER_ENABLE_FAULTS === "1" },
      log: { type: "boolean", default: env.LIBSQL_SERVER_LOG === "1" },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error("--port must be an integer in 0..65535");
  const authToken = values["auth-token"] ?? (env.LIBSQL_SERVER_AUTH_TOKEN || undefined);
  return { host: values.host, port, dir: values.dir, name: values.db, authToken, enableFaults: values["enable-faults"], log: values.log };
}

async function main() {
  const options = cliOptions(process.argv.slice(2), process.env);
  const server = await startLibsqlServer(options);
  const token = options.authToken ? "the given auth token" : `the auth token in ${path.join(options.dir, AUTH_TOKEN_FILE)}`;
  console.log(`libsql server listening on ${server.url} (file ${server.file}), requiring ${token}`);
  const stop = () => server.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(`libsql server: ${e.message}`);
    process.exit(1);
  });
}
