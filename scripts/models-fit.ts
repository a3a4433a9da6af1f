/**
 * `npm run models:fit -- --input <csv> [--unit weeks|days] [--json]`
 * Fits BG/NBD and Gamma-Gamma to a per-customer summary CSV, with the same model code the Worker
 * cron uses. Columns `frequency,recency,T,monetary_value` (lifetimes) or `x,t_x,T,zbar` (CDNOW);
 * extra columns are ignored. `--unit` only labels α: the fit is unit-agnostic (default days).
 */
import { createReadStream } from "node:fs";
import { parseArgs } from "node:util";
import { parse } from "csv-parse";
import { type CustomerSummary, fitBgNbd, fitGammaGamma, summaryFromRecord } from "../src/domain/models";

const { values } = parseArgs({
  options: {
    input: { type: "string" },
    unit: { type: "string", default: "days" },
    json: { type: "boolean", default: false },
  },
});

if (!values.input || (values.unit !== "days" && values.unit !== "weeks")) {
  console.error("usage: npm run models:fit -- --input <csv> [--unit weeks|days] [--json]");
  process.exit(2);
}

async function readSummaries(path: string): Promise<CustomerSummary[]> {
  const rows: CustomerSummary[] = [];
  const records = createReadStream(path).pipe(parse({ columns: true, trim: true, skip_empty_lines: true, bom: true }));
  for await (const record of records) rows.push(summaryFromRecord(record));
  return rows;
}

const rows = await readSummaries(values.input);
const started = performance.now();
const bgnbd = fitBgNbd(rows);
const gammaGamma = fitGammaGamma(rows);
const fitMs = Math.round(performance.now() - started);

if (values.json) {
  console.log(
    JSON.stringify({
      unit: values.unit,
      rows: rows.length,
      fitMs,
      bgnbd: { r: bgnbd.r, alpha: bgnbd.alpha, a: bgnbd.a, b: bgnbd.b, logLikelihood: bgnbd.logLikelihood },
      gammaGamma: {
        p: gammaGamma.p,
        q: gammaGamma.q,
        gamma: gammaGamma.gamma,
        logLikelihood: gammaGamma.logLikelihood,
        n: gammaGamma.n,
      },
    }),
  );
} else {
  const line = (label: string, value: number | string) => console.log(`  ${label.padEnd(26)} ${value}`);
  const fixed = (v: number) => v.toFixed(4);
  console.log(`${rows.length} customers, fitted in ${fitMs} ms`);
  console.log("BG/NBD");
  line("r", fixed(bgnbd.r));
  line(`alpha (${values.unit})`, fixed(bgnbd.alpha));
  line("a", fixed(bgnbd.a));
  line("b", fixed(bgnbd.b));
  line("log-likelihood", bgnbd.logLikelihood.toFixed(2));
  line("converged", `${bgnbd.converged} (${bgnbd.iterations} iterations)`);
  console.log(`Gamma-Gamma (${gammaGamma.n} repeat buyers)`);
  line("p", fixed(gammaGamma.p));
  line("q", fixed(gammaGamma.q));
  line("gamma (currency)", fixed(gammaGamma.gamma));
  line("log-likelihood", gammaGamma.logLikelihood.toFixed(2));
  line("converged", `${gammaGamma.converged} (${gammaGamma.iterations} iterations)`);
}
