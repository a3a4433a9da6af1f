// Scalar's standalone browser bundle (MIT), bundled from the exactly pinned npm package, so the
// reference works offline and nothing is loaded from a CDN on the API's origin. A relative path:
// the package's "exports" do not list this file, and Vite (tests) enforces them.
import scalarJs from "../../../node_modules/@scalar/api-reference/dist/browser/standalone.js?raw";
import { type Asset, contentHash } from "../static-assets";
import docsJs from "./assets/docs.js?raw";

/** The version of @scalar/api-reference in package.json: its asset URL changes with it. */
const SCALAR_VERSION = "1.72.1";

/** The reference page's static files, served by the Worker itself. */
export const assets: Record<string, Asset> = {
  "scalar.js": { body: scalarJs, type: "text/javascript; charset=utf-8", version: SCALAR_VERSION },
  "docs.js": { body: docsJs, type: "text/javascript; charset=utf-8", version: contentHash(docsJs) },
};

const assetUrl = (name: string) => `/docs/assets/${name}?v=${assets[name].version}`;

/** The page: two same-origin scripts, no inline script. */
export const page = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Loyalty Edge API reference</title>
  </head>
  <body>
    <div id="app"></div>
    <script src="${assetUrl("scalar.js")}"></script>
    <script src="${assetUrl("docs.js")}"></script>
  </body>
</html>
`;
