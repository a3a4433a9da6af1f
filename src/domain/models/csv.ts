/**
 * Per-customer summary rows from CSV text. Two header styles are accepted (extra columns ignored):
 *  - lifetimes: frequency, recency, T, monetary_value
 *  - CDNOW / Fader-Hardie: x, t_x, T, zbar
 * The spend column is optional (mBar = 0 when absent). No dependency, so it also runs in the Worker;
 * Node scripts can stream with csv-parse and map each record through `summaryFromRecord`.
 */
import type { PurchaseSummary } from "./bgnbd";
import type { SpendSummary } from "./gamma-gamma";

export type CustomerSummary = PurchaseSummary & SpendSummary;

const COLUMN_ALIASES = {
  x: ["x", "frequency"],
  t_x: ["t_x", "recency"],
  T: ["T"],
  mBar: ["zbar", "monetary_value", "mBar"],
} as const;

/** Map one CSV record (header → cell text) to a summary row; throws on missing or non-numeric cells. */
export function summaryFromRecord(record: Record<string, string | undefined>): CustomerSummary {
  const read = (field: keyof typeof COLUMN_ALIASES, required: boolean): number => {
    const name = COLUMN_ALIASES[field].find((alias) => record[alias] !== undefined);
    if (name === undefined) {
      if (required) throw new Error(`CSV is missing a ${COLUMN_ALIASES[field].join(" / ")} column`);
      return 0;
    }
    const text = (record[name] ?? "").trim();
    const value = text === "" && !required ? 0 : Number(text);
    if (!Number.isFinite(value)) throw new Error(`CSV column ${name} has a non-numeric value "${text}"`);
    return value;
  };
  return { x: read("x", true), t_x: read("t_x", true), T: read("T", true), mBar: read("mBar", false) };
}

/** Parse whole CSV text of numeric summaries (comma-separated, optional double quotes, CRLF tolerated). */
export function parseSummaryCsv(text: string): CustomerSummary[] {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== "");
  if (lines.length === 0) return [];
  const header = splitLine(lines[0]);
  return lines.slice(1).map((line) => {
    const cells = splitLine(line);
    return summaryFromRecord(Object.fromEntries(header.map((name, i) => [name, cells[i]])));
  });
}

function splitLine(line: string): string[] {
  return line.split(",").map((cell) => cell.trim().replace(/^"(.*)"$/, "$1"));
}
