import { createApp } from "../../src/app";

/**
 * The OpenAPI document the Worker serves at /openapi.json, built in Node (under vitest, which
 * handles the `?raw` asset imports) without touching a database.
 */
export async function openApiDocumentText(): Promise<string> {
  const res = await createApp().request("http://loyalty.test/openapi.json", {}, { LIBSQL_URL: "http://127.0.0.1:9" } as never);
  if (res.status !== 200) throw new Error(`/openapi.json answered ${res.status}: ${await res.text()}`);
  return res.text();
}
