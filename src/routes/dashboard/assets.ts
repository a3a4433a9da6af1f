import { type Asset, contentHash } from "../static-assets";
import css from "./assets/dashboard.css?raw";
import html from "./assets/dashboard.html?raw";
import js from "./assets/dashboard.js?raw";
import chartJs from "./vendor/chart.umd.min.js?raw";

/** The dashboard's static files, served by the Worker itself (no asset binding needed). */
export const assets: Record<string, Asset> = {
  "app.js": { body: js, type: "text/javascript; charset=utf-8", version: contentHash(js) },
  "app.css": { body: css, type: "text/css; charset=utf-8", version: contentHash(css) },
  // Chart.js 4.5.1 (MIT), its license header kept in the file.
  "chart.js": { body: chartJs, type: "text/javascript; charset=utf-8", version: "4.5.1" },
};

/** The page with versioned asset URLs, so the assets themselves can be cached for a year. */
export const page = html.replace(
  /\{\{(app\.js|app\.css|chart\.js)\}\}/g,
  (_, name: string) => `/admin/assets/${name}?v=${assets[name].version}`,
);
