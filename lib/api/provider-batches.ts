// GET /api/batches/{id}/provider-batches: the groups of a batch's records sent to a provider's batch
// tier (mode provider_batch), as the provider last reported them.
import { z } from "zod";
import type { ProviderBatchInfo } from "@/lib/engine/provider-batches";

const iso = z.string().describe("ISO 8601 time");

export const ProviderBatchSchema = z
  .object({
    id: z.string().describe("Batchboard's id of this provider batch"),
    provider: z.enum(["openai", "anthropic"]),
    provider_batch_id: z.string().describe("the provider's own id (batch_… or msgbatch_…)"),
    status: z.string().describe("the provider's status as last polled (validating, in_progress, completed, expired, ended, …)"),
    requests: z.number().int().describe("records sent in it"),
    succeeded: z.number().int(),
    failed: z.number().int().describe("records the provider failed, expired or cancelled, or returned nothing readable for"),
    submitted_at: iso,
    expires_at: iso.nullable().describe("when the provider gives up on what it has not run"),
    ended_at: iso.nullable().describe("when its results were read back and its records woken"),
    cancel_requested_at: iso.nullable().describe("when a cancel, pause or stop of the batch cancelled it at the provider"),
    polls: z.number().int(),
    next_poll_at: iso.nullable(),
    error: z.string().nullable().describe("why the provider failed it, what of its output could not be read, or why the last poll failed"),
  });

export const ProviderBatchesSchema = z.object({ items: z.array(ProviderBatchSchema) });

const isoOrNull = (d: Date | null) => (d ? d.toISOString() : null);

export function toProviderBatchesJson(list: ProviderBatchInfo[]): z.infer<typeof ProviderBatchesSchema> {
  return {
    items: list.map((p) => ({
      id: p.id,
      provider: p.provider,
      provider_batch_id: p.providerBatchId,
      status: p.providerStatus,
      requests: p.requests,
      succeeded: p.succeeded,
      failed: p.failed,
      submitted_at: p.submittedAt.toISOString(),
      expires_at: isoOrNull(p.expiresAt),
      ended_at: isoOrNull(p.endedAt),
      cancel_requested_at: isoOrNull(p.cancelRequestedAt),
      polls: p.polls,
      next_poll_at: isoOrNull(p.nextPollAt),
      error: p.error,
    })),
  };
}
