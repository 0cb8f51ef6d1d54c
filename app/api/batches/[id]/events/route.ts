import { getBatch, subscribeEvents } from "@/lib/engine";
import { isTerminalBatch } from "@/lib/contract/statuses";
import { route } from "@/lib/api/handler";
import { toBatchJson } from "@/lib/api/serialize";
import { sseResponse, throttleByKey } from "@/lib/api/sse";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// GET /api/batches/[id]/events – SSE: the batch now, again on every change (~4/s at most), then `end` when finished
export const GET = route("GET /api/batches/{id}/events", async ({ params, request }) => {
  const id = (await getBatch(params.id)).id; // 404 as JSON, before the stream opens
  return sseResponse(request.signal, (channel) => {
    // sends are chained so snapshots never overtake each other
    let chain = Promise.resolve();
    const push = () => {
      chain = chain.then(async () => {
        if (channel.closed) return;
        try {
          const batch = await getBatch(id);
          channel.send("batch", toBatchJson(batch));
          if (isTerminalBatch(batch.status)) {
            channel.send("end", { status: batch.status });
            channel.close();
          }
        } catch (err) {
          // the batch was deleted (retention) or the database is gone: end the stream, the client reconnects
          channel.send("error", { message: (err as Error).message });
          channel.close();
        }
      });
    };
    const throttle = throttleByKey(250, push);
    // subscribe before the first snapshot, so no change between them is missed
    const unsubscribe = subscribeEvents((e) => {
      if (e.type === "batch" && e.batchId === id) throttle.call(id);
    });
    push();
    return () => {
      unsubscribe();
      throttle.cancel();
    };
  });
});
