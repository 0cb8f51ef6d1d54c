import { describe, expect, it } from "vitest";
import { isLiveJobList, LIVE_JOB_PAGES } from "./keys";

describe("isLiveJobList", () => {
  const withPages = (n: number) => ({ state: { data: { pages: Array.from({ length: n }, () => ({ items: [] })) } } });
  it("refreshes a jobs list live up to LIVE_JOB_PAGES pages loaded, not one scrolled deeper", () => {
    expect(isLiveJobList(withPages(1))).toBe(true);
    expect(isLiveJobList(withPages(LIVE_JOB_PAGES))).toBe(true);
    expect(isLiveJobList(withPages(LIVE_JOB_PAGES + 1))).toBe(false);
    expect(isLiveJobList(withPages(100))).toBe(false);
  });
  it("a query without pages (a job's detail, nothing loaded yet) stays live", () => {
    expect(isLiveJobList({ state: { data: undefined } })).toBe(true);
    expect(isLiveJobList({ state: { data: { record_id: "r1" } } })).toBe(true);
  });
});
