// POST /api/batches/{id}/clone: the parent's settings as a POST /api/batches body, the caller's
// changes laid over them (parameters merged key by key), checked by the same schema as a new batch.
import "server-only";
import { z } from "zod";
import { findUnstorable } from "@/lib/db/storable";
import { getBatch } from "@/lib/engine/batches";
import { cloneBatch } from "@/lib/engine/clone-batch";
import type { BatchDetail } from "@/lib/engine";
import { AppError } from "@/lib/errors";
import { validationError } from "./errors";
import { createBatchSchema } from "@/lib/contract/batch-options";
import { toBatchJson, toCreateBatchInput } from "./serialize";

const recordId = z.string().min(1).max(512).refine((s) => findUnstorable(s) === null, "not storable text");

export const cloneBatchSchema = z
  .object({
    records: z
      .union([z.enum(["all", "failed", "cancelled"]), z.array(recordId).min(1).max(10_000)])
      .default("all")
      .describe('which of the parent\'s records run again: "all", "failed", "cancelled", or a list of record ids'),
  })
  .catchall(z.unknown())
  .describe("any field of POST /api/batches (but records and record_id_field) changes the parent's value; parameters are merged key by key");

/** Fields a child never takes from its parent: the source is the parent's dataset, and a dry run is not repeated. */
const NOT_INHERITED = new Set(["records", "record_id_field", "dry_run"]);

/** The parent as the body that would create it again (the webhook URL unmasked). */
export function parentCreateBody(parent: BatchDetail): Record<string, unknown> {
  const fields = new Set(Object.keys(createBatchSchema.shape));
  const options = Object.fromEntries(Object.entries(toBatchJson(parent).options).filter(([k]) => fields.has(k) && !NOT_INHERITED.has(k)));
  return {
    ...options,
    flow: parent.flow,
    name: parent.name,
    parameters: parent.parameters ?? {},
    metadata: parent.metadata,
    webhook_url: parent.webhookUrl,
  };
}

export async function cloneFromBody(parentId: string, body: z.output<typeof cloneBatchSchema>): Promise<BatchDetail> {
  const parent = await getBatch(parentId);
  if (!parent.datasetId) throw new AppError("conflict", "this batch's records are gone: it cannot be run again", [{ message: "no dataset" }]);
  const { records: selection, ...changes } = body;
  for (const key of ["record_id_field"]) {
    if (key in changes) throw new AppError("validation_failed", `${key} cannot change in a run again`, [{ path: key, message: "not allowed here" }]);
  }
  const base = parentCreateBody(parent);
  const parameters =
    changes.parameters && typeof changes.parameters === "object" && !Array.isArray(changes.parameters)
      ? { ...(base.parameters as object), ...(changes.parameters as object) }
      : (changes.parameters ?? base.parameters);
  const parsed = createBatchSchema.safeParse({ ...base, ...changes, parameters });
  if (!parsed.success) throw validationError(parsed.error, "clone");
  const { source: _source, ...input } = toCreateBatchInput(parsed.data);
  return cloneBatch(parent, input, parsed.data.dataset ?? null, selection);
}
