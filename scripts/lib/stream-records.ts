import { createReadStream, statSync } from "node:fs";
import { createInterface } from "node:readline";
import { parse } from "csv-parse";

export type StreamedRecord = { line: number; record: Record<string, unknown> | null; error?: string };

/**
 * Stream a CSV (header row) or NDJSON file record by record, never loading it whole;
 * `onBytes` reports progress through the file.
 */
export async function* streamRecords(file: string, onBytes: (bytesRead: number, total: number) => void): AsyncGenerator<StreamedRecord> {
  const total = statSync(file).size;
  const input = createReadStream(file);
  let bytes = 0;
  input.on("data", (chunk) => {
    bytes += chunk.length;
    onBytes(bytes, total);
  });
  if (/\.ndjson$|\.jsonl$/i.test(file)) {
    let line = 0;
    for await (const text of createInterface({ input, crlfDelay: Infinity })) {
      line++;
      if (!text.trim()) continue;
      try {
        yield { line, record: JSON.parse(text) };
      } catch {
        yield { line, record: null, error: "malformed JSON" };
      }
    }
    return;
  }
  const parser = input.pipe(parse({ columns: true, skip_empty_lines: true, trim: true, relax_column_count: true, info: true }));
  for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
    yield { line: info.lines, record };
  }
}
