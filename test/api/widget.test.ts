import { describe, expect, it } from "vitest";
import { call } from "./helpers";

describe("widget", () => {
  it("GET /widget.js serves the <loyalty-panel> web component, briefly cached, readable from any page", async () => {
    const res = await call("GET", "/widget.js");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/javascript/);
    expect(res.headers.get("cache-control")).toBe("public, max-age=300");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(String(res.body)).toContain('customElements.define("loyalty-panel"');
    // Dependency-light: no imports, nothing fetched from elsewhere.
    expect(String(res.body)).not.toMatch(/\bimport\s*\(|^import\s|https?:\/\/(?!\w+\.example)/m);
  });

  it("the demo shop page (local database only) embeds it with same-origin scripts and a strict CSP", async () => {
    const res = await call("GET", "/widget/demo");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toMatch(/script-src 'self';/);
    const html = String(res.body);
    expect(html).toContain("<loyalty-panel");
    const scripts = [...html.matchAll(/src="([^"]+)"/g)].map((m) => m[1]);
    expect(scripts.length).toBe(2);
    for (const src of scripts) {
      const asset = await call("GET", src);
      expect(asset.status, src).toBe(200);
      expect(asset.headers.get("cache-control")).toMatch(/immutable/);
    }
    expect((await call("GET", "/widget/assets/nope.js")).status).toBe(404);
    expect((await call("GET", "/widget/assets/__proto__")).status).toBe(404);
  });
});
