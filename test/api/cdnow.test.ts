import { describe, expect, it } from "vitest";
import { getProgram } from "../../src/services/access/programs";
import { importTransactions } from "../../src/services/admin/bulk-import";
import type { ImportTransactionRow } from "../../src/services/admin/import-rows";
import csv from "../fixtures/cdnow_transactions.csv?raw";
import { call, db, newProgram, testEnv } from "./helpers";

describe("CDNOW through the product", () => {
  it("imported raw transactions, fitted as of the calibration end, reproduce the published BG/NBD and Gamma-Gamma fits", async () => {
    const p = await newProgram({ expiryDays: null });
    const program = await getProgram({ ctx: { env: testEnv, db: db(), requestId: "t" }, input: { programId: p.programId } });
    const [, ...lines] = csv.trim().split("\n");
    const rows: ImportTransactionRow[] = lines.map((line) => {
      const [externalId, orderId, amount, currency, occurredAt] = line.split(",");
      return { externalId, orderId, amount: Number(amount), currency, occurredAt };
    });
    for (let i = 0; i < rows.length; i += 1000) await importTransactions(db(), program, rows.slice(i, i + 1000));

    // The 39-week calibration period ends on 1997-09-30 (orders are stamped at noon UTC).
    const recompute = await call("POST", "/v1/analytics/recompute", { key: p.keys.admin, body: { asOf: "1997-09-30T12:00:00Z" } });
    expect(recompute.status, JSON.stringify(recompute.body)).toBe(200);
    const { current } = (await call("GET", "/v1/analytics/models", { key: p.keys.admin })).body;
    // 2,357 customers; the 8 whose only purchases were free (amount 0) do not count as purchasers.
    expect(current.diagnostics.purchasers).toBe(2349);
    const { bgnbd, gammaGamma } = current.params;
    // Published (weeks): r 0.2426, α 4.4135, a 0.7929, b 2.4258; in days α is 7× larger.
    const close = (value: number, expected: number) => expect(Math.abs(value - expected) / expected).toBeLessThan(0.01);
    close(bgnbd.r, 0.2426);
    close(bgnbd.alpha, 4.4135 * 7);
    close(bgnbd.a, 0.7929);
    close(bgnbd.b, 2.4258);
    // Gamma-Gamma on the 946 repeat buyers' mean spend (in cents here): p 6.2488, q 3.7446, γ 15.4477 dollars.
    expect(current.diagnostics.gammaGamma.n).toBe(946);
    close(gammaGamma.p, 6.2488);
    close(gammaGamma.q, 3.7446);
    close(gammaGamma.gamma, 15.4477 * 100);
  });
});
