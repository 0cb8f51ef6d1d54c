import { describe, expect, it } from "vitest";
import { ACTIVE_BATCH_STATUSES, BATCH_STATUSES, FINISHED_JOB_STATUSES, isFinishedJob, JOB_STATUSES, OPEN_JOB_STATUSES, TERMINAL_BATCH_STATUSES } from "./statuses";

describe("the status groups", () => {
  it("put every job status in exactly one of open and finished", () => {
    expect([...OPEN_JOB_STATUSES, ...FINISHED_JOB_STATUSES].sort()).toEqual([...JOB_STATUSES].sort());
    expect(JOB_STATUSES.filter(isFinishedJob)).toEqual([...FINISHED_JOB_STATUSES]);
  });

  it("put every batch status in exactly one of active and terminal", () => {
    expect([...ACTIVE_BATCH_STATUSES, ...TERMINAL_BATCH_STATUSES].sort()).toEqual([...BATCH_STATUSES].sort());
  });
});
