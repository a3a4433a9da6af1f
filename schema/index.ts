export * from "./programs";
export * from "./members";
export * from "./ledger";
export * from "./program-config";
export * from "./campaigns";
export * from "./webhooks";
