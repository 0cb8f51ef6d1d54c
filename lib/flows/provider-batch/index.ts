// The providers' batch tiers by name.
import { anthropicBatches } from "./anthropic";
import { openaiBatches } from "./openai";
import type { BatchClient, BatchProvider } from "./types";

export const BATCH_CLIENTS: Record<BatchProvider, BatchClient> = { openai: openaiBatches, anthropic: anthropicBatches };

/** custom_id of a job's request in a provider batch (both providers allow [A-Za-z0-9_-]{1,64}) */
export const customIdOf = (jobId: number | string) => `job-${jobId}`;
