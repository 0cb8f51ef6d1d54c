import { createDatasetFromRecords, listDatasets } from "@/lib/datasets";
import { json, readJsonBody, route } from "@/lib/api/handler";
import { validationError } from "@/lib/api/errors";
import { importUploadedDataset, isUploadRequest } from "@/lib/api/upload";
import { createDatasetSchema } from "@/lib/contract/datasets";
import { toDatasetJson, toPage } from "@/lib/api/serialize";
import { getConfig } from "@/lib/config";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// POST /api/datasets – create a dataset from JSON records, or from an uploaded CSV / JSONL / JSON file (streamed)
export const POST = route("POST /api/datasets", async ({ query, request }) => {
  if (isUploadRequest(request, query)) return json(toDatasetJson(await importUploadedDataset(request, query)), 201);
  const raw = await readJsonBody(request, getConfig().BATCHBOARD_MAX_BODY_BYTES);
  const parsed = createDatasetSchema.safeParse(raw ?? {});
  if (!parsed.success) throw validationError(parsed.error, "body");
  const b = parsed.data;
  const dataset = await createDatasetFromRecords({
    name: b.name,
    records: b.records,
    idField: b.id_field ?? undefined,
    description: b.description ?? undefined,
  });
  return json(toDatasetJson(dataset), 201);
});

// GET /api/datasets – uploaded and demo datasets, newest first
export const GET = route("GET /api/datasets", async ({ query }) => toPage(await listDatasets(query), toDatasetJson));
