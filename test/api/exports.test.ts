import { describe, expect, it } from "vitest";
import { snapshotProgramDay } from "../../src/services/kpis/kpis";
import { accrue, call, db, newMember, newProgram, type TestProgram, uniqueKey } from "./helpers";

type Page = { status: number; text: string; next: string | null; type: string | null };

async function exportPage(p: TestProgram, path: string, opts: { accept?: string; key?: string } = {}): Promise<Page> {
  const res = await call("GET", path, { key: opts.key ?? p.keys.admin, headers: opts.accept ? { accept: opts.accept } : {} });
  const text = typeof res.body === "string" ? res.body : res.body === null ? "" : JSON.stringify(res.body);
  return { status: res.status, text, next: res.headers.get("x-next-cursor"), type: res.headers.get("content-type") };
}

/** Follow the cursors to the end, as `npm run export` does. */
async function exportAll(p: TestProgram, kind: string, query = "", accept?: string) {
  const pages: Page[] = [];
  let cursor: string | null = null;
  do {
    const sep = query ? `${query}&` : "";
    const page = await exportPage(p, `/v1/exports/${kind}?${sep}${cursor ? `cursor=${encodeURIComponent(cursor)}` : ""}`, { accept });
    expect(page.status, page.text).toBe(200);
    pages.push(page);
    cursor = page.next;
  } while (cursor);
  return pages;
}

const ndjson = (pages: Page[]) =>
  pages.flatMap((p) =>
    p.text
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l)),
  );

/** RFC 4180 rows (quoted cells may hold commas, quotes and newlines). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      row.push(cell);
      cell = "";
    } else if (ch === "\r" && text[i + 1] === "\n") {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
      i++;
    } else cell += ch;
  }
  return rows;
}

describe("exports", () => {
  it("streams every member once across cursor pages, as NDJSON and as CSV, and incrementally with updatedSince", async () => {
    const p = await newProgram();
    const ids: string[] = [];
    for (let i = 0; i < 7; i++)
      ids.push((await newMember(p, { name: i === 3 ? '=HYPERLINK("http://evil.example","x")' : `Member ${i}`, tags: ["a,b"] })).id);

    const pages = await exportAll(p, "members", "limit=3");
    expect(pages.map((pg) => ndjson([pg]).length)).toEqual([3, 3, 1]);
    expect(pages[0].type).toMatch(/^application\/x-ndjson/);
    const rows = ndjson(pages);
    expect(rows.map((r) => r.id).sort()).toEqual([...ids].sort());
    expect(rows[0]).toMatchObject({ tags: ["a,b"], consent: expect.any(Object), pointsBalance: 0 });
    expect(rows[0]).not.toHaveProperty("programId");

    const csvPages = await exportAll(p, "members", "limit=4", "text/csv");
    expect(csvPages[0].type).toMatch(/^text\/csv/);
    const csv = parseCsv(csvPages.map((pg) => pg.text).join(""));
    const [header, ...body] = csv;
    expect(header.slice(0, 3)).toEqual(["id", "externalId", "status"]);
    expect(body).toHaveLength(7);
    const col = (name: string) => header.indexOf(name);
    expect(body.map((r) => r[col("id")]).sort()).toEqual([...ids].sort());
    // A formula is defused; a JSON cell with a comma survives quoting.
    expect(body.find((r) => r[col("id")] === ids[3])?.[col("name")]).toBe(`'=HYPERLINK("http://evil.example","x")`);
    expect(JSON.parse(body[0][col("tags")])).toEqual(["a,b"]);

    // Incremental: only what changed since.
    await new Promise((r) => setTimeout(r, 5));
    const since = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 5));
    expect((await accrue(p, ids[5], 2_000)).status).toBe(201);
    const changed = ndjson(await exportAll(p, "members", `updatedSince=${encodeURIComponent(since)}`));
    expect(changed.map((r) => r.id)).toEqual([ids[5]]);
    expect(changed[0].pointsBalance).toBe(20);
  });

  it("exports the ledger, orders, a segment's members and KPI snapshots; negative points stay numbers in CSV", async () => {
    const p = await newProgram();
    const m = await newMember(p, { tags: ["vip"] });
    const other = await newMember(p);
    const orderId = uniqueKey("o");
    expect((await accrue(p, m.id, 5_000, { orderId })).status).toBe(201);
    expect(
      (
        await call("POST", `/v1/members/${m.id}/adjustments`, {
          key: p.keys.admin,
          idempotencyKey: uniqueKey("adj"),
          body: { points: -20, reason: "correction" },
        })
      ).status,
    ).toBe(201);
    const ledger = ndjson(await exportAll(p, "ledger"));
    expect(ledger.map((e) => e.points).sort((a, b) => a - b)).toEqual([-20, 50]);
    const ledgerCsv = parseCsv((await exportAll(p, "ledger", "", "text/csv"))[0].text);
    expect(
      ledgerCsv
        .slice(1)
        .map((r) => r[ledgerCsv[0].indexOf("points")])
        .sort(),
    ).toEqual(["-20", "50"]);
    const orders = ndjson(await exportAll(p, "orders"));
    expect(orders).toEqual([expect.objectContaining({ orderId, memberId: m.id, amount: 5_000, pointsEarned: 50 })]);

    const segment = await call("POST", "/v1/segments", {
      key: p.keys.admin,
      body: { name: "VIP", rule: { field: "tags", op: "contains", value: "vip" } },
    });
    expect(segment.status, JSON.stringify(segment.body)).toBe(201);
    const inSegment = ndjson(await exportAll(p, "segment-members", `segmentId=${segment.body.id}`));
    expect(inSegment.map((r) => r.memberId)).toEqual([m.id]);
    expect(inSegment.map((r) => r.memberId)).not.toContain(other.id);
    expect((await exportPage(p, "/v1/exports/segment-members")).status).toBe(400);
    expect((await exportPage(p, "/v1/exports/segment-members?segmentId=seg_unknown")).status).toBe(404);

    await snapshotProgramDay(db(), p.programId, "2026-11-30");
    const kpis = ndjson(await exportAll(p, "kpis"));
    expect(kpis).toEqual([
      expect.objectContaining({ day: "2026-11-30", timeZone: "UTC", figures: expect.objectContaining({ members: expect.any(Object) }) }),
    ]);

    expect((await exportPage(p, "/v1/exports/coupons")).status).toBe(400);
    expect((await exportPage(p, "/v1/exports/members?cursor=not-a-cursor")).status).toBe(400);
    expect((await exportPage(p, "/v1/exports/members?limit=0")).status).toBe(400);
  });

  it("is admin-only and per program: storefront and partner keys get 403, another program's admin sees only its own rows", async () => {
    const a = await newProgram();
    const b = await newProgram();
    const mb = await newMember(b, { email: "b-only@example.com" });
    await newMember(a);
    for (const kind of ["members", "ledger", "orders", "kpis"]) {
      for (const key of [b.keys.storefront, b.keys.partner]) expect((await exportPage(b, `/v1/exports/${kind}`, { key })).status).toBe(403);
      const fromA = await exportAll(a, kind);
      expect(fromA.map((pg) => pg.text).join("")).not.toContain(mb.id);
      expect(fromA.map((pg) => pg.text).join("")).not.toContain("b-only@example.com");
    }
    const segment = await call("POST", "/v1/segments", {
      key: b.keys.admin,
      body: { name: "All", rule: { field: "orders", op: "gte", value: 0 } },
    });
    expect((await exportPage(a, `/v1/exports/segment-members?segmentId=${segment.body.id}`)).status).toBe(404);
    for (const key of [b.keys.storefront, b.keys.partner])
      expect((await call("GET", `/v1/members/${mb.id}/export`, { key })).status).toBe(403);
    expect((await call("GET", `/v1/members/${mb.id}/export`, { key: a.keys.admin })).status).toBe(404);
  });

  it("a data subject access export holds everything about the member in one document, and is audited", async () => {
    const p = await newProgram();
    const referrer = await newMember(p);
    const m = await newMember(p, { email: "ana@example.com", name: "Ana", consent: { email: true }, referralCode: referrer.referralCode });
    expect((await accrue(p, m.id, 3_000)).status).toBe(201);
    const fb = await call("POST", `/v1/members/${m.id}/feedback`, {
      key: p.keys.storefront,
      idempotencyKey: uniqueKey("fb"),
      body: { kind: "nps", score: 9, text: "Great" },
    });
    expect(fb.status, JSON.stringify(fb.body)).toBeLessThan(300);
    const res = await call("GET", `/v1/members/${m.id}/export`, { key: p.keys.admin });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const doc = res.body;
    expect(doc.member).toMatchObject({ id: m.id, email: "ana@example.com", name: "Ana" });
    expect(doc.consent).toMatchObject({ email: true });
    expect(doc.ledger.map((e: { points: number }) => e.points)).toContain(30);
    expect(doc.orders).toHaveLength(1);
    expect(doc.lots.length).toBeGreaterThan(0);
    expect(doc.feedback).toEqual([expect.objectContaining({ score: 9 })]);
    expect(doc.referrals).toEqual([expect.objectContaining({ referrerId: referrer.id, refereeId: m.id })]);
    expect(doc.scores).toHaveProperty("stage");
    for (const k of ["tierHistory", "messages", "campaignOccurrences", "experiments", "coupons", "segments", "auditTrail"])
      expect(Array.isArray(doc[k]), k).toBe(true);
    const audit = await call("GET", `/v1/audit?entityType=member&entityId=${m.id}`, { key: p.keys.admin });
    expect(audit.body.data.map((a: { action: string }) => a.action)).toContain("member.exported");
    expect((await call("GET", "/v1/members/mem_unknown/export", { key: p.keys.admin })).status).toBe(404);
  });
});
