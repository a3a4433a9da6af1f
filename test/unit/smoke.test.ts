import { expect, it } from "vitest";
import csv from "../fixtures/cdnow_summary.csv?raw";
it("reads fixtures as raw text inside workerd", () => {
  expect(csv.split("\n").length).toBeGreaterThan(2000);
  expect(typeof navigator).toBe("object");
});
