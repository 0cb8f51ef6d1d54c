import { route } from "@/lib/api/handler";
import { submitEmbedJob } from "@/lib/embed-jobs/jobs";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// POST /api/batch/embed – submit an embedding job over documents (an embed batch; more than 10,000 documents is a 400)
export const POST = route("POST /api/batch/embed", async ({ body }) => submitEmbedJob(body));
