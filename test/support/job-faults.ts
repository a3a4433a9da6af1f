/**
 * Fault injection for the `loyalty-jobs` consumer (Env.jobFaults), for test/api/jobs.test.ts:
 * a test registers a rule for a run; the consumer calls it before working each message, and a
 * throw fails that delivery as a crashed consumer would.
 */
type Fault = (message: { kind: string; job: string; runId: string; shard?: number }, attempt: number) => void;

const faults: Fault[] = [];
/** Every delivery the consumer was handed while a rule was registered: [runId, shard|"plan", attempt]. */
export const deliveries: Array<[string, number | "plan", number]> = [];

export function injectJobFault(fault: Fault): () => void {
  faults.push(fault);
  return () => {
    const i = faults.indexOf(fault);
    if (i >= 0) faults.splice(i, 1);
  };
}

export const jobFaults: Fault = (message, attempt) => {
  deliveries.push([message.runId, message.kind === "shard" ? (message.shard ?? -1) : "plan", attempt]);
  for (const fault of faults) fault(message, attempt);
};
