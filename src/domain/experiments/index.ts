// A/B experiments: deterministic assignment plus the statistics to read results and decide when to stop.
export { assignVariant, hashToUnitInterval, murmur3Hash32 } from "./assignment";
export type { Assignment, AssignVariantInput, VariantWeight } from "./assignment";
export {
  evaluateStopRule,
  meanAndVarianceFromSums,
  pickWinner,
  requiredSampleSizePerGroup,
  twoProportionZTest,
  welchTTest,
  welchTTestFromSums,
} from "./stats";
export type {
  ConfidenceInterval,
  SampleSizeInput,
  SampleSums,
  SampleSummary,
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
