export * from "./campaigns";
export * from "./ledger";
export * from "./members";
export * from "./program-config";
export * from "./programs";
export * from "./webhooks";
