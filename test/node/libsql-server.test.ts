import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { type Client, createClient, LibsqlError } from "@libsql/client";
import { createClient as createWebClient } from "@libsql/client/web";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error plain ESM script without type declarations
import { localAuthToken, startLibsqlServer } from "../../scripts/libsql-server.mjs";

type Server = { url: string; port: number; file: string; authToken: string; close(): Promise<void> };
type StartOptions = { dir?: string; name?: string; authToken?: string; enableFaults?: boolean; streamTimeoutMs?: number };
/** Tests start servers with an explicit token (never the repository's .data/libsql-token). */
const TOKEN = `test-${Math.random().toString(36).slice(2)}`;
const start = (opts: StartOptions): Promise<Server> => startLibsqlServer({ port: 0, authToken: TOKEN, ...opts });
const auth = { authorization: `Bearer ${TOKEN}` };
const jsonHeaders = { ...auth, "content-type": "application/json" };

const dir = mkdtempSync(join(tmpdir(), "libsql-server-test-"));
let server: Server;
let db: Client;
const clients: Client[] = [];
const client = (config: Partial<Parameters<typeof createClient>[0]> = {}) => {
  const c = createClient({ url: server.url, authToken: TOKEN, ...config });
  clients.push(c);
  return c;
};

/** Raw Hrana-over-HTTP calls, for protocol details the client does not expose. */
async function post(path: string, body: unknown, url = server.url) {
  const res = await fetch(`${url}${path}`, { method: "POST", headers: jsonHeaders, body: JSON.stringify(body) });
  return { status: res.status, type: res.headers.get("content-type"), text: await res.text() };
}
const execute = (sql: string, args: unknown[] = []) => ({ type: "execute", stmt: { sql, args, want_rows: true } });
const count = async (table: string) => Number((await db.execute(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
const faults = (body: unknown) =>
  fetch(`${server.url}/__faults`, { method: body === null ? "DELETE" : "POST", headers: jsonHeaders, body: JSON.stringify(body) });

beforeAll(async () => {
  server = await start({ dir, name: "test", enableFaults: true });
  db = client();
});
afterEach(async () => {
  await faults(null);
});
afterAll(async () => {
  for (const c of clients) c.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("values and results", () => {
  it("round-trips every value type, including 64-bit integers and blobs", async () => {
    const big = client({ intMode: "bigint" });
    await big.execute("CREATE TABLE vals (id INTEGER PRIMARY KEY, i INTEGER, f REAL, t TEXT, b BLOB, n ANY)");
    const blob = new Uint8Array([0, 1, 2, 254, 255]);
    const ins = await big.execute({
      sql: "INSERT INTO vals (i, f, t, b, n) VALUES (?, ?, ?, ?, ?)",
      args: [9223372036854775807n, 3.25, "héllo ✓", blob, null],
    });
    expect(ins.rowsAffected).toBe(1);
    expect(ins.lastInsertRowid).toBe(1n);
    const rs = await big.execute("SELECT i, f, t, b, n, typeof(i) AS ti, typeof(f) AS tf FROM vals");
    expect(rs.columns).toEqual(["i", "f", "t", "b", "n", "ti", "tf"]);
    expect(rs.columnTypes.slice(0, 4)).toEqual(["INTEGER", "REAL", "TEXT", "BLOB"]);
    const row = rs.rows[0];
    expect(row.i).toBe(9223372036854775807n);
    expect(row.f).toBe(3.25);
    expect(row.t).toBe("héllo ✓");
    expect(new Uint8Array(row.b as ArrayBuffer)).toEqual(blob);
    expect(row.n).toBeNull();
    expect([row.ti, row.tf]).toEqual(["integer", "real"]);
    const neg = await big.execute({ sql: "SELECT ? AS v, typeof(?) AS t", args: [-9223372036854775808n, 42] });
    expect(neg.rows[0].v).toBe(-9223372036854775808n);
    expect(neg.rows[0].t).toBe("real"); // JS numbers travel as floats, as with Turso
  });

  it("binds named arguments with or without a prefix and reports affected rows", async () => {
    const rs = await db.execute({ sql: "SELECT :a AS a, @b AS b, $c AS c", args: { a: 1, "@b": "two", c: null } });
    expect(rs.rows[0]).toMatchObject({ a: 1, b: "two", c: null });
    await db.execute("CREATE TABLE upd (x INTEGER)");
    await db.execute("INSERT INTO upd VALUES (1), (2), (3)");
    const upd = await db.execute("UPDATE upd SET x = x + 1 WHERE x > 1");
    expect(upd.rowsAffected).toBe(2);
    const none = await db.execute("UPDATE upd SET x = 0 WHERE x > 100");
    expect(none.rowsAffected).toBe(0);
    const ret = await db.execute("INSERT INTO upd VALUES (10), (11) RETURNING x");
    expect(ret.rows.map((r) => r.x)).toEqual([10, 11]);
    expect(ret.rowsAffected).toBe(2);
  });

  it("surfaces a unique-constraint violation as a LibsqlError with a SQLITE_CONSTRAINT code", async () => {
    await db.execute("CREATE TABLE uniq (email TEXT UNIQUE)");
    await db.execute({ sql: "INSERT INTO uniq VALUES (?)", args: ["a@example.com"] });
    const err = await db.execute({ sql: "INSERT INTO uniq VALUES (?)", args: ["a@example.com"] }).catch((e) => e);
    expect(err).toBeInstanceOf(LibsqlError);
    expect(err.code).toBe("SQLITE_CONSTRAINT");
    expect(err.message).toContain("UNIQUE constraint failed: uniq.email");
    const syntax = await db.execute("SELEC 1").catch((e) => e);
    expect(syntax).toBeInstanceOf(LibsqlError);
    expect(syntax.code).toBe("SQLITE_ERROR");
  });

  it("runs executeMultiple as a sequence", async () => {
    await db.executeMultiple("CREATE TABLE seq (x); INSERT INTO seq VALUES (1); INSERT INTO seq VALUES (2);");
    expect(await count("seq")).toBe(2);
  });
});

describe("batches and transactions", () => {
  beforeAll(async () => {
    await db.execute("CREATE TABLE acct (id TEXT PRIMARY KEY, balance INTEGER NOT NULL)");
  });

  it("applies a successful batch atomically and returns every result", async () => {
    const res = await db.batch(
      [
        { sql: "INSERT INTO acct VALUES (?, ?)", args: ["a", 100] },
        { sql: "INSERT INTO acct VALUES (?, ?)", args: ["b", 50] },
        "SELECT sum(balance) AS total FROM acct",
      ],
      "write",
    );
    expect(res.map((r) => r.rowsAffected)).toEqual([1, 1, 0]);
    expect(res[2].rows[0].total).toBe(150);
  });

  it("rolls back the whole batch when a step fails", async () => {
    const err = await db
      .batch(
        [
          { sql: "UPDATE acct SET balance = balance - 10 WHERE id = ?", args: ["a"] },
          { sql: "INSERT INTO acct VALUES (?, ?)", args: ["a", 1] }, // duplicate key
        ],
        "write",
      )
      .catch((e) => e);
    expect(err).toBeInstanceOf(LibsqlError);
    expect(err.code).toBe("SQLITE_CONSTRAINT");
    const rows = (await db.execute("SELECT balance FROM acct WHERE id = 'a'")).rows;
    expect(rows[0].balance).toBe(100);
  });

  it("commits an interactive transaction across requests", async () => {
    const tx = await db.transaction("write");
    await tx.execute({ sql: "UPDATE acct SET balance = balance - 30 WHERE id = ?", args: ["a"] });
    const mid = await tx.execute("SELECT balance FROM acct WHERE id = 'a'");
    expect(mid.rows[0].balance).toBe(70);
    await tx.batch([{ sql: "UPDATE acct SET balance = balance + 30 WHERE id = ?", args: ["b"] }]);
    await tx.commit();
    const rows = (await db.execute("SELECT id, balance FROM acct ORDER BY id")).rows;
    expect(rows.map((r) => [r.id, r.balance])).toEqual([
      ["a", 70],
      ["b", 80],
    ]);
  });

  it("rolls back an interactive transaction", async () => {
    const tx = await db.transaction("write");
    await tx.execute("DELETE FROM acct");
    expect((await tx.execute("SELECT count(*) AS n FROM acct")).rows[0].n).toBe(0);
    await tx.rollback();
    expect(await count("acct")).toBe(2);
  });

  it("lets plain reads through while another stream holds a write transaction", async () => {
    const tx = await db.transaction("write");
    await tx.execute("INSERT INTO acct VALUES ('c', 1)");
    expect(await count("acct")).toBe(2); // the committed snapshot, without waiting
    await tx.commit();
    expect(await count("acct")).toBe(3);
  });
});

describe("concurrency", () => {
  it("handles 200 concurrent writes and batches with a correct final count", async () => {
    const wide = client({ concurrency: 200 });
    await wide.execute("CREATE TABLE hits (id INTEGER PRIMARY KEY, n INTEGER)");
    const writes = Array.from({ length: 200 }, (_, i) =>
      i % 2 === 0
        ? wide.execute({ sql: "INSERT INTO hits (n) VALUES (?)", args: [i] })
        : wide.batch(
            [
              { sql: "INSERT INTO hits (n) VALUES (?)", args: [i] },
              { sql: "INSERT INTO hits (n) VALUES (?)", args: [-i] },
            ],
            "write",
          ),
    );
    await Promise.all(writes);
    expect(await count("hits")).toBe(300);
  });

  it("serialises concurrent write transactions (no lost updates)", async () => {
    await db.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)");
    await db.execute("INSERT INTO counter VALUES (1, 0)");
    const clientsForTx = Array.from({ length: 4 }, () => client());
    const increment = async (c: Client) => {
      const tx = await c.transaction("write");
      try {
        const v = Number((await tx.execute("SELECT v FROM counter WHERE id = 1")).rows[0].v);
        await new Promise((r) => setTimeout(r, 5));
        await tx.execute({ sql: "UPDATE counter SET v = ? WHERE id = 1", args: [v + 1] });
        await tx.commit();
      } finally {
        tx.close();
      }
    };
    await Promise.all(Array.from({ length: 12 }, (_, i) => increment(clientsForTx[i % clientsForTx.length])));
    expect((await db.execute("SELECT v FROM counter")).rows[0].v).toBe(12);
  });

  it("expires an abandoned transaction, rolls it back and unblocks writers", async () => {
    const quick = await start({ name: ":memory:", streamTimeoutMs: 300 });
    try {
      const c = createClient({ url: quick.url, authToken: TOKEN });
      await c.execute("CREATE TABLE t (x)");
      const tx = await c.transaction("write");
      await tx.execute("INSERT INTO t VALUES (1)");
      const started = Date.now();
      await c.execute("INSERT INTO t VALUES (2)"); // waits for the abandoned stream to expire
      expect(Date.now() - started).toBeGreaterThanOrEqual(200);
      expect((await c.execute("SELECT x FROM t")).rows.map((r) => r.x)).toEqual([2]);
      const err = await tx.execute("SELECT 1").catch((e) => e);
      expect(err).toBeInstanceOf(LibsqlError);
      expect(err.code).toBe("STREAM_EXPIRED");
      c.close();
    } finally {
      await quick.close();
    }
  });
});

describe("protocol endpoints", () => {
  it("answers version probes so clients fall back to JSON", async () => {
    const status = async (path: string) => (await fetch(`${server.url}${path}`)).status;
    expect(await status("/v2")).toBe(200);
    expect(await status("/v3")).toBe(200);
    expect(await status("/v3-protobuf")).toBe(404);
    expect(await status("/health")).toBe(200);
  });

  it("keeps a stream across pipeline calls with batons and supports stored SQL, describe and autocommit", async () => {
    const first = await post("/v3/pipeline", {
      requests: [
        { type: "store_sql", sql_id: 1, sql: "SELECT ?1 + 1 AS n" },
        { type: "execute", stmt: { sql_id: 1, args: [{ type: "integer", value: "41" }], want_rows: true } },
        execute("BEGIN"),
        { type: "get_autocommit" },
        { type: "describe", sql: "SELECT :a AS x FROM acct WHERE id = ?" },
      ],
    });
    expect(first.status).toBe(200);
    const body = JSON.parse(first.text);
    expect(body.results.map((r: { type: string }) => r.type)).toEqual(["ok", "ok", "ok", "ok", "ok"]);
    expect(body.results[1].response.result.rows).toEqual([[{ type: "integer", value: "42" }]]);
    expect(body.results[3].response.is_autocommit).toBe(false);
    expect(body.results[4].response.result).toMatchObject({
      params: [{ name: ":a" }, { name: null }],
      cols: [{ name: "x" }],
      is_readonly: true,
    });
    const second = await post("/v2/pipeline", {
      baton: body.baton,
      requests: [{ type: "get_autocommit" }, execute("COMMIT"), { type: "close" }],
    });
    expect(JSON.parse(second.text)).toMatchObject({
      baton: null,
      results: [{ response: { is_autocommit: false } }, { type: "ok" }, { type: "ok" }],
    });
    const reused = await post("/v2/pipeline", { baton: body.baton, requests: [{ type: "close" }] });
    expect(reused.status).toBe(400);
  });

  it("evaluates batch conditions and reports per-step errors", async () => {
    const res = await post("/v3/pipeline", {
      requests: [
        {
          type: "batch",
          batch: {
            steps: [
              { stmt: { sql: "SELECT 1" } },
              { stmt: { sql: "SELECT nope" } },
              { condition: { type: "error", step: 1 }, stmt: { sql: "SELECT 'ran'" } },
              {
                condition: {
                  type: "and",
                  conds: [
                    { type: "ok", step: 0 },
                    { type: "not", cond: { type: "is_autocommit" } },
                  ],
                },
                stmt: { sql: "SELECT 'skipped'" },
              },
              {
                condition: {
                  type: "or",
                  conds: [
                    { type: "ok", step: 1 },
                    { type: "ok", step: 3 },
                  ],
                },
                stmt: { sql: "SELECT 'skipped too'" },
              },
            ],
          },
        },
        { type: "close" },
      ],
    });
    const result = JSON.parse(res.text).results[0].response.result;
    expect(result.step_results.map((r: unknown) => r !== null)).toEqual([true, false, true, false, false]);
    expect(result.step_errors[1]).toMatchObject({ code: "SQLITE_ERROR" });
    expect(result.step_errors.filter((e: unknown) => e !== null)).toHaveLength(1);
    const bad = await post("/v3/pipeline", {
      requests: [{ type: "batch", batch: { steps: [{ condition: { type: "ok", step: 0 }, stmt: { sql: "SELECT 1" } }] } }],
    });
    expect(bad.status).toBe(400);
  });

  it("streams batch results from /v3/cursor as NDJSON", async () => {
    const res = await post("/v3/cursor", {
      batch: {
        steps: [
          { stmt: { sql: "SELECT 1 AS a UNION ALL SELECT 2" } },
          { stmt: { sql: "SELECT nope" } },
          { condition: { type: "ok", step: 1 }, stmt: { sql: "SELECT 3" } },
        ],
      },
    });
    const lines = res.text
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(res.text.endsWith("\n")).toBe(true);
    expect(typeof lines[0].baton).toBe("string");
    expect(lines.slice(1).map((e) => e.type)).toEqual(["step_begin", "row", "row", "step_end", "step_error"]);
    expect(lines[1].cols).toEqual([{ name: "a", decltype: null }]);
    expect(lines[2].row).toEqual([{ type: "integer", value: "1" }]);
    expect(lines[5]).toMatchObject({ step: 1, error: { code: "SQLITE_ERROR" } });
    await post("/v3/pipeline", { baton: lines[0].baton, requests: [{ type: "close" }] });
  });
});

describe("auth and persistence", () => {
  it("answers only the bearer token: none and a wrong one are 401", async () => {
    const secured = await start({ name: ":memory:", authToken: "s3cret-token" });
    try {
      const anonymous = createClient({ url: secured.url });
      const err = await anonymous.execute("SELECT 1").catch((e) => e);
      expect(err).toBeInstanceOf(LibsqlError);
      expect(err.message).toContain("401");
      const wrong = createClient({ url: secured.url, authToken: "s3cret-tokeN" });
      await expect(wrong.execute("SELECT 1")).rejects.toThrow(/401/);
      const ok = createClient({ url: secured.url, authToken: "s3cret-token" });
      expect((await ok.execute("SELECT 1 AS one")).rows[0].one).toBe(1);
      for (const path of ["/v2/pipeline", "/v3/pipeline", "/v3/cursor"]) {
        const raw = await fetch(`${secured.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
        expect(raw.status, path).toBe(401);
      }
      expect((await fetch(`${secured.url}/v2`)).status).toBe(200); // probes stay open
      for (const c of [anonymous, wrong, ok]) c.close();
    } finally {
      await secured.close();
    }
    await expect(startLibsqlServer({ port: 0, name: ":memory:", authToken: "" })).rejects.toThrow(/authToken/);
  });

  it("refuses what a web page can send, with the right token too: Origin, Sec-Fetch-*, a text/plain POST (403)", async () => {
    const sql = JSON.stringify({ requests: [{ type: "execute", stmt: { sql: "CREATE TABLE pwned (x)" } }, { type: "close" }] });
    // Raw requests: Node's fetch would set Sec-Fetch-Mode itself.
    const raw = (method: string, path: string, headers: Record<string, string>, body?: string) =>
      new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = request(`${server.url}${path}`, { method, headers }, (res) => {
          let text = "";
          res.setEncoding("utf8").on("data", (d) => (text += d));
          res.on("end", () => resolve({ status: res.statusCode!, text }));
        });
        req.on("error", reject).end(body);
      });
    const attempts: Record<string, Record<string, string>> = {
      // The CORS "simple request" a page can send cross-origin without a preflight.
      "text/plain POST": { ...auth, "content-type": "text/plain;charset=UTF-8" },
      "form POST": { ...auth, "content-type": "application/x-www-form-urlencoded" },
      "POST without a content type": auth,
      "Origin header": { ...jsonHeaders, origin: "https://evil.example" },
      "same-origin Origin (DNS rebinding)": { ...jsonHeaders, origin: server.url },
      "Sec-Fetch-Site": { ...jsonHeaders, "sec-fetch-site": "cross-site" },
      "Sec-Fetch-Mode: no-cors": { ...jsonHeaders, "sec-fetch-mode": "no-cors" },
      "Sec-Fetch-Mode: navigate": { ...jsonHeaders, "sec-fetch-mode": "navigate" },
    };
    for (const [what, headers] of Object.entries(attempts)) {
      const res = await raw("POST", "/v3/pipeline", headers, sql);
      expect(res.status, what).toBe(403);
      expect(res.text, what).toMatch(/^Forbidden/);
    }
    // Probes too: a page cannot even tell the server is there.
    expect((await raw("GET", "/health", { origin: "https://evil.example" })).status).toBe(403);
    expect((await raw("GET", "/v2", { "sec-fetch-site": "same-site" })).status).toBe(403);
    expect((await db.execute("SELECT count(*) AS n FROM sqlite_master WHERE name = 'pwned'")).rows[0].n).toBe(0);
    // The same request from a program (Node's fetch sends Sec-Fetch-Mode: cors, no Origin) runs.
    expect((await fetch(`${server.url}/v3/pipeline`, { method: "POST", headers: jsonHeaders, body: sql })).status).toBe(200);
    expect((await db.execute("SELECT count(*) AS n FROM sqlite_master WHERE name = 'pwned'")).rows[0].n).toBe(1);
  });

  it("generates its token on first start (0600 in the data dir) and reuses it; the CLI scripts find it", async () => {
    const dataDir = join(dir, "token-data");
    const first = await startLibsqlServer({ port: 0, dir: dataDir, name: "loyalty" });
    const file = join(dataDir, "libsql-token");
    try {
      expect(first.authToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(readFileSync(file, "utf8").trim()).toBe(first.authToken);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      await expect(createClient({ url: first.url }).execute("SELECT 1")).rejects.toThrow(/401/);
      // The migration script with no token in its environment: it reads the server's token file.
      // (Asynchronously: the server answers from this very process.)
      const migrate = await promisify(execFile)(process.execPath, ["--import", "tsx", "scripts/migrate.ts"], {
        cwd: fileURLToPath(new URL("../..", import.meta.url)),
        env: { ...process.env, LIBSQL_URL: first.url, LIBSQL_AUTH_TOKEN: "", LIBSQL_SERVER_DIR: dataDir },
      });
      expect(migrate.stdout).toContain("migrations applied");
    } finally {
      await first.close();
    }
    expect(localAuthToken(dataDir)).toBe(first.authToken);
    const second = await startLibsqlServer({ port: 0, dir: dataDir, name: "loyalty" });
    try {
      expect(second.authToken).toBe(first.authToken);
      const c = createClient({ url: second.url, authToken: first.authToken });
      expect((await c.execute("SELECT count(*) AS n FROM sqlite_master WHERE name = 'members'")).rows[0].n).toBe(1);
      c.close();
    } finally {
      await second.close();
    }
    // A token file left readable by others is tightened, not trusted less.
    writeFileSync(file, "loose-token\n", { mode: 0o644 });
    expect(localAuthToken(dataDir)).toBe("loose-token");
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it("persists data in <dir>/<name>.db across restarts", async () => {
    const persistDir = join(dir, "persist");
    const first = await start({ dir: persistDir, name: "loyalty" });
    const c1 = createClient({ url: first.url, authToken: TOKEN });
    await c1.batch(["CREATE TABLE kept (v TEXT)", "INSERT INTO kept VALUES ('still here')"], "write");
    c1.close();
    await first.close();
    expect(existsSync(join(persistDir, "loyalty.db"))).toBe(true);
    const second = await start({ dir: persistDir, name: "loyalty" });
    try {
      const c2 = createClient({ url: second.url, authToken: TOKEN });
      expect((await c2.execute("SELECT v FROM kept")).rows[0].v).toBe("still here");
      c2.close();
    } finally {
      await second.close();
    }
  });
});

describe("fault injection", () => {
  beforeAll(async () => {
    await db.execute("CREATE TABLE ledger (id INTEGER PRIMARY KEY, amount INTEGER)");
  });

  it("fails a batch at the requested step and leaves nothing applied", async () => {
    expect((await faults({ failBatchOnStep: 2, times: 1 })).status).toBe(200);
    const err = await db
      .batch(
        [
          { sql: "INSERT INTO ledger (amount) VALUES (?)", args: [10] },
          { sql: "INSERT INTO ledger (amount) VALUES (?)", args: [20] },
        ],
        "write",
      )
      .catch((e) => e);
    expect(err).toBeInstanceOf(LibsqlError);
    expect(err.code).toBe("SQLITE_IOERR");
    expect(await count("ledger")).toBe(0);
    // The fault is used up: the same batch now succeeds.
    await db.batch(["INSERT INTO ledger (amount) VALUES (10)", "INSERT INTO ledger (amount) VALUES (20)"], "write");
    expect(await count("ledger")).toBe(2);
  });

  it("drops the connection after a commit; the write is still there", async () => {
    await faults({ dropConnectionAfterCommit: true, times: 1 });
    await expect(db.execute("INSERT INTO ledger (amount) VALUES (99)")).rejects.toThrow();
    expect((await db.execute("SELECT count(*) AS n FROM ledger WHERE amount = 99")).rows[0].n).toBe(1);
    const tx = await db.transaction("write");
    await tx.execute("INSERT INTO ledger (amount) VALUES (100)");
    await faults({ dropConnectionAfterCommit: true });
    await expect(tx.commit()).rejects.toThrow();
    expect((await db.execute("SELECT count(*) AS n FROM ledger WHERE amount = 100")).rows[0].n).toBe(1);
  });

  it("an outage drops every statement request unanswered until it is deleted; nothing is applied meanwhile", async () => {
    await faults({ unavailable: true });
    await expect(db.execute("INSERT INTO ledger (amount) VALUES (555)")).rejects.toThrow();
    await expect(db.execute("SELECT 1")).rejects.toThrow();
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    await faults(null);
    expect((await db.execute("SELECT count(*) AS n FROM ledger WHERE amount = 555")).rows[0].n).toBe(0);
  });

  it("is unavailable unless enabled", async () => {
    const plain = await start({ name: ":memory:" });
    try {
      expect((await fetch(`${plain.url}/__faults`, { method: "POST", headers: jsonHeaders, body: "{}" })).status).toBe(404);
    } finally {
      await plain.close();
    }
  });
});

describe("web build", () => {
  it("works with @libsql/client/web (as used inside Workers)", async () => {
    const web = createWebClient({ url: server.url, authToken: TOKEN });
    await web.execute("CREATE TABLE web (id INTEGER PRIMARY KEY, v TEXT)");
    await web.batch(
      [
        { sql: "INSERT INTO web (v) VALUES (?)", args: ["a"] },
        { sql: "INSERT INTO web (v) VALUES (?)", args: ["b"] },
      ],
      "write",
    );
    const tx = await web.transaction("write");
    await tx.execute({ sql: "INSERT INTO web (v) VALUES (?)", args: ["c"] });
    await tx.commit();
    const rs = await web.execute("SELECT group_concat(v, '') AS vs FROM web");
    expect(rs.rows[0].vs).toBe("abc");
    web.close();
  });
});
