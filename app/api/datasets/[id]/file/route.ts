import { route } from "@/lib/api/handler";
import { openDatasetFile } from "@/lib/datasets/files";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// GET /api/datasets/[id]/file – one file of a dataset of files, streamed as it was uploaded
export const GET = route("GET /api/datasets/{id}/file", async ({ params, query }) => {
  const { file, body } = await openDatasetFile(params.id, query.record_id);
  return new Response(body, {
    headers: {
      "Content-Type": file.content_type,
      "Content-Length": String(file.bytes),
      "Content-Disposition": `attachment; filename*=UTF-8''${encodeURIComponent(file.filename)}`,
      "X-Content-Type-Options": "nosniff",
      "Cache-Control": "no-store",
    },
  });
});
