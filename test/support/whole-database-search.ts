/**
 * Where does a piece of personal data still sit? Every table (from sqlite_master), every
 * column, every row, compared as text (JSON included), case-insensitively. Shared by the API
 * tests (through the Worker's libSQL) and the node tests (the import CLI's database).
 */

/** Runs one statement and returns its rows as objects. */
export type RunSql = (sql: string, args?: unknown[]) => Promise<Array<Record<string, unknown>>>;

export type Hit = { table: string; column: string; needle: string; value: string };

const quoteId = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** The spellings a value may have once stored: as given, and escaped inside a JSON string. */
function spellings(needle: string): string[] {
  const lower = needle.toLowerCase();
  return [...new Set([lower, JSON.stringify(lower).slice(1, -1)])];
}

/** Every place any needle occurs, with the tables searched (so a caller can check none was missed). */
export async function searchWholeDatabase(run: RunSql, needles: string[]): Promise<{ hits: Hit[]; tables: string[] }> {
  const columnRows = await run(
    `SELECT m.name AS tbl, p.name AS col FROM sqlite_master m JOIN pragma_table_info(m.name) p
     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid`,
  );
  const columnsOf = new Map<string, string[]>();
  for (const r of columnRows) columnsOf.set(String(r.tbl), [...(columnsOf.get(String(r.tbl)) ?? []), String(r.col)]);
  const wanted = needles.flatMap((needle) => spellings(needle).map((spelling) => ({ needle, spelling })));
  const hits: Hit[] = [];
  for (const [table, columns] of columnsOf) {
    // Every value as text (text, JSON, numbers and blobs alike), one scan per table.
    const asText = columns.map((c) => `CAST(${quoteId(c)} AS TEXT)`);
    const row = `lower(${asText.map((t) => `COALESCE(${t}, '')`).join(" || char(10) || ")})`;
    const rows = await run(
      `SELECT ${asText.map((t, i) => `${t} AS ${quoteId(columns[i])}`).join(", ")} FROM ${quoteId(table)}
       WHERE ${wanted.map(() => `instr(${row}, ?) > 0`).join(" OR ")}`,
      wanted.map((w) => w.spelling),
    );
    for (const r of rows)
      for (const column of columns) {
        const value = r[column] === null || r[column] === undefined ? "" : String(r[column]);
        for (const w of wanted)
          if (value.toLowerCase().includes(w.spelling)) hits.push({ table, column, needle: w.needle, value: value.slice(0, 300) });
      }
  }
  return { hits, tables: [...columnsOf.keys()] };
}

/** A member's personal data, distinctive enough that nothing else in a shared test database contains it. */
export function distinctivePerson(tag = Math.random().toString(36).slice(2, 10)) {
  const digits = String(Math.floor(Math.random() * 1e8)).padStart(8, "0");
  return {
    email: `zoe.quill.${tag}@erasure.example`,
    phone: `+4420${digits}`,
    name: `Zoe Quillfeather ${tag}`,
    externalId: `ext-erase-${tag}`,
  };
}

export type Person = ReturnType<typeof distinctivePerson>;

/** What to search for: each value, and the phone's digits alone (a copy may drop the +). */
export const needlesOf = (p: Person) => [p.email, p.phone, p.phone.replace(/\D/g, ""), p.name, p.externalId];
