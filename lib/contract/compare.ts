// How two batches compare on a record: both ran it and the field agrees or not, or only one has it.
export const VERDICTS = ["same", "different", "only_a", "only_b"] as const;
export type Verdict = (typeof VERDICTS)[number];
