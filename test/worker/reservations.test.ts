// Jobs claimed ahead: handed over per batch in claim order, their starts reported once, forgotten or
// given back as the database takes them back.
import { describe, expect, it } from "vitest";
import type { ClaimedJob } from "@/lib/engine/claim";
import { Reservations } from "@/lib/worker/reservations";

const job = (id: number, batch: string): ClaimedJob => ({
  id,
  batch_id: batch,
  record_id: `r${id}`,
  position: id,
  attempts: 1,
  interruptions: 0,
  retry_base: 0,
  data: null,
  reserved: true,
  chunk_size: 1,
  call: null,
});

describe("Reservations", () => {
  it("hands a batch's reservations over in claim order, one per freed slot, batches apart", () => {
    const r = new Reservations();
    for (const j of [job(1, "a"), job(2, "b"), job(3, "a"), job(4, "a"), job(5, "b")]) r.add(j);
    expect(r.count("a")).toBe(3);
    expect(r.takeNext("a")?.id).toBe(1);
    expect(r.takeNext("b")?.id).toBe(2);
    expect(r.takeNext("a")?.id).toBe(3);
    expect(r.takeNext("a")?.id).toBe(4);
    // an emptied batch leaves: nothing more to hand over, and it no longer counts as held here
    expect(r.takeNext("a")).toBeUndefined();
    expect(r.has("a")).toBe(false);
    expect(r.has("b")).toBe(true);
    expect(r.jobIds()).toEqual([5]);
    expect(r.takeNext("c")).toBeUndefined();
  });

  it("reports each start once, and not in a write that carries the job's own outcome", () => {
    const r = new Reservations();
    for (const j of [job(1, "a"), job(2, "a"), job(3, "a")]) r.add(j);
    r.takeNext("a");
    r.takeNext("a");
    expect(r.startUnreported(1)).toBe(true);
    expect(r.startUnreported(3)).toBe(false);
    expect(r.startsToReport(new Set([2]))).toEqual([1]);
    r.startsReported([1, 2]);
    expect(r.startUnreported(1)).toBe(false);
    expect(r.startsToReport(new Set())).toEqual([]);
  });

  it("keeps only the reservations the database still holds", () => {
    const r = new Reservations();
    for (const j of [job(1, "a"), job(2, "a"), job(3, "b"), job(4, "c")]) r.add(j);
    r.keepHeld(new Set([2, 4]));
    expect(r.jobIds()).toEqual([2, 4]);
    expect(r.has("b")).toBe(false);
    expect(r.takeNext("a")?.id).toBe(2);
    r.forget("c");
    expect(r.isEmpty).toBe(true);
  });

  it("gives back all reservations but those of the batches kept, in claim order", () => {
    const r = new Reservations();
    for (const j of [job(1, "a"), job(2, "b"), job(3, "a"), job(4, "c")]) r.add(j);
    expect(r.takeBack(new Set(["b"])).map((j) => j.id)).toEqual([1, 3, 4]);
    expect(r.jobIds()).toEqual([2]);
    expect(r.takeBack().map((j) => j.id)).toEqual([2]);
    expect(r.isEmpty).toBe(true);
  });

  it("asks for as many as the slots held per batch, capped at the concurrency, less those queued", () => {
    const r = new Reservations();
    for (const j of [job(1, "a"), job(2, "a")]) r.add(j);
    const held = new Map([
      ["a", 5],
      ["b", 20],
      ["c", 1],
    ]);
    expect(r.wanted(held, 8)).toEqual(
      new Map([
        ["a", 3],
        ["b", 8],
        ["c", 1],
      ]),
    );
    expect(r.wanted(new Map([["a", 2]]), 8)).toBeUndefined();
  });
});
