import { getBatch, listPrompts, subscribeEvents } from "@/lib/engine";
import { route } from "@/lib/api/handler";
import { toBatchJson } from "@/lib/api/serialize";
import { sseResponse, throttleByKey } from "@/lib/api/sse";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// GET /api/events – SSE for every batch (`batch`) and the open-prompt count (`prompts` {open})
export const GET = route("GET /api/events", async ({ request }) =>
  sseResponse(request.signal, (channel) => {
    const sendBatch = (id: string) => {
      getBatch(id).then(
        (b) => channel.send("batch", toBatchJson(b)),
        () => {}, // deleted since the event: nothing to show
      );
    };
    const sendPrompts = () => {
      listPrompts({ status: ["open"], limit: 1 }).then(
        (page) => channel.send("prompts", { open: page.total }),
        (err) => console.error("[sse] open prompt count failed:", err),
      );
    };
    const batches = throttleByKey(250, sendBatch);
    const prompts = throttleByKey(250, sendPrompts);
    const unsubscribe = subscribeEvents((e) => {
      if (e.type === "batch") batches.call(e.batchId);
      else if (e.type === "prompts") prompts.call("open");
    });
    sendPrompts();
    return () => {
      unsubscribe();
      batches.cancel();
      prompts.cancel();
    };
  }),
);
