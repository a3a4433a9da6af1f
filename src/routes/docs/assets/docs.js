// The API reference (Scalar's standalone build, served from /docs/assets/scalar.js) over this
// deployment's OpenAPI document. Everything it needs comes from this origin: no web fonts, no
// telemetry, no AI agent, no request proxy (the page's CSP would block them anyway).
Scalar.createApiReference("#app", {
  url: "/openapi.json",
  withDefaultFonts: false,
  telemetry: false,
  agent: { disabled: true },
  mcp: { disabled: true },
  showDeveloperTools: "never",
  documentDownloadType: "json",
});
