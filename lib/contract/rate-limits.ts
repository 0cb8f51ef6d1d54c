// What a rate limit's rates and key may be: one declaration for the API, the engine, the operator's
// BATCHBOARD_RATE_LIMITS and the New batch form.
import { z } from "zod";

/** A rate of a limit: a whole number of requests or tokens per minute. */
export const perMinuteSchema = z.number().int().min(1).max(1_000_000_000);

/** A limit's key: what batches name to share one budget (e.g. `openai:gpt-4o-mini`). */
export const rateLimitKeySchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$/, "must start with a letter or digit and hold only letters, digits and . _ : / @ + -")
  .refine((k) => !k.startsWith("batch:"), "keys starting with batch: are a batch's own limit");
