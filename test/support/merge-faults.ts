/**
 * Fault injection for member merges (Env.mergeFaults), for test/api/member-merge.test.ts: a test
 * registers a rule; the merge calls it after each step, and a throw stops the merge there as a
 * crash of the Worker would.
 */
type Step = "locked" | "debited" | "credited";
type Fault = (step: Step, mergeId: string) => void;

const faults: Fault[] = [];

export function injectMergeFault(fault: Fault): () => void {
  faults.push(fault);
  return () => {
    const i = faults.indexOf(fault);
    if (i >= 0) faults.splice(i, 1);
  };
}

export const mergeFaults: Fault = (step, mergeId) => {
  for (const fault of faults) fault(step, mergeId);
};
