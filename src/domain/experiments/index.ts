// A/B experiments: deterministic assignment plus the statistics to read results and decide when to stop.

export type { Assignment, AssignVariantInput, VariantWeight } from "./assignment";
export { assignVariant, hashToUnitInterval, murmur3Hash32 } from "./assignment";
export type {
  ConfidenceInterval,
  SampleSizeInput,
  SampleSummary,
  SampleSums,
  StopDecision,
  StopRuleInput,
  Timestamp,
  TwoProportionInput,
  TwoProportionResult,
  VariantResult,
  WelchInput,
  WelchResult,
  WinnerDecision,
} from "./stats";
export {
  evaluateStopRule,
  meanAndVarianceFromSums,
  pickWinner,
  requiredSampleSizePerGroup,
  twoProportionZTest,
  welchTTest,
  welchTTestFromSums,
} from "./stats";
