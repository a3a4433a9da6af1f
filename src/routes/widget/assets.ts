import { type Asset, contentHash } from "../static-assets";
import demoCss from "./assets/demo.css?raw";
import demoHtml from "./assets/demo.html?raw";
import demoJs from "./assets/demo.js?raw";
import widgetJs from "./assets/widget.js?raw";

export const widgetScript: Asset = { body: widgetJs, type: "text/javascript; charset=utf-8", version: contentHash(widgetJs) };

/** The demo shop page's static files (the widget itself is also at /widget.js). */
export const assets: Record<string, Asset> = {
  "widget.js": widgetScript,
  "demo.js": { body: demoJs, type: "text/javascript; charset=utf-8", version: contentHash(demoJs) },
  "demo.css": { body: demoCss, type: "text/css; charset=utf-8", version: contentHash(demoCss) },
};

/** The demo page with versioned asset URLs. */
export const demoPage = demoHtml.replace(
  /\{\{(widget\.js|demo\.js|demo\.css)\}\}/g,
  (_, name: string) => `/widget/assets/${name}?v=${assets[name].version}`,
);
