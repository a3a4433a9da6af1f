// Features that extend the ledger (rules engine, tiers, referrals, rewards, campaigns)
// register their hooks by being imported here.
export {};
