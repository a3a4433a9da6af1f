import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** The README's "Capability map" section: from its heading to the next heading of any level ≤ 3. */
function mapSection(): string {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const start = readme.indexOf("\n### Capability map\n");
  expect(start, "README.md has a '### Capability map' section").toBeGreaterThan(0);
  const rest = readme.slice(start + 1);
  const end = rest.slice(1).search(/\n#{1,3} /);
  return end === -1 ? rest : rest.slice(0, end + 1);
}

/** Every backticked repository path in the section (`src/…`, `schema/…`, `test/…`, `scripts/…`). */
function mapPaths(section: string): string[] {
  return [...section.matchAll(/`([^`\s]+)`/g)].map((m) => m[1]).filter((p) => /^(src|schema|test|scripts)\//.test(p));
}

const dirs = (dir: string) =>
  readdirSync(join(root, dir), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => `${dir}/${e.name}/`);
const entries = (dir: string) =>
  readdirSync(join(root, dir), { withFileTypes: true }).map((e) => `${dir}/${e.name}${e.isDirectory() ? "/" : ""}`);

describe("README capability map", () => {
  const section = mapSection();
  const paths = mapPaths(section);

  it("names only paths that exist", () => {
    expect(paths.length).toBeGreaterThan(40);
    expect(paths.filter((p) => !existsSync(join(root, p)))).toEqual([]);
  });

  it("has a row for each capability built so far (1–17 and later ones, in order), each with routes, services, schema or tests", () => {
    const rows = section.split("\n").filter((l) => /^\| \d+ \|/.test(l));
    const numbers = rows.map((r) => Number(r.split("|")[1]));
    expect(numbers.slice(0, 17)).toEqual(Array.from({ length: 17 }, (_, i) => i + 1));
    expect(numbers.every((n, i) => i === 0 || n > numbers[i - 1]) && numbers.every((n) => n <= 24)).toBe(true);
    for (const row of rows) {
      const [, , , routes, services, , schema, tests] = row.split("|").map((c) => c.trim());
      expect(mapPaths(routes).length, row).toBeGreaterThan(0);
      expect(mapPaths(services).length, row).toBeGreaterThan(0);
      expect(mapPaths(tests).length, row).toBeGreaterThan(0);
      expect(schema === "—" || mapPaths(schema).length > 0, row).toBe(true);
    }
  });

  it("lists every route folder and everything under src/services/", () => {
    const named = (p: string) => paths.some((m) => m === p || m.startsWith(p.endsWith("/") ? p : `${p}/`));
    const expected = [...dirs("src/routes"), ...entries("src/services")];
    expect(expected.filter((p) => !named(p))).toEqual([]);
  });
});
