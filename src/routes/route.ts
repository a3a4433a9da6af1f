import type { App } from "../lib/context";

/** A route module: its OpenAPI definition and how it mounts itself on the app. */
export type RouteModule = { route: { method: string; path: string }; register: (app: App) => unknown };
