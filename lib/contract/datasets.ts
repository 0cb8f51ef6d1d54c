// The datasets' and flows' wire schemas. snake_case, as on the wire.
import { z } from "zod";
import { iso, json, single, UPLOAD_FORMATS } from "./wire";

export const createDatasetSchema = z.strictObject({
  name: z.string().min(1).max(200),
  records: z.array(json).min(1),
  id_field: z.string().min(1).max(200).nullish(),
  description: z.string().max(2000).nullish(),
});

export const uploadDatasetQuery = z.object({
  name: single(z.string().min(1).max(200).optional()),
  format: single(z.enum(UPLOAD_FORMATS).optional()).describe("default: from the Content-Type or the file name"),
  id_field: single(z.string().min(1).max(200).optional()),
  description: single(z.string().max(2000).optional()),
});

export const FlowSchema = z.object({
  name: z.string(),
  description: z.string(),
  parameters_schema: z.record(z.string(), json),
  default_dataset: z.string().nullable(),
  cache: z.boolean().describe("batches of this flow reuse earlier results unless they say cache: false"),
  asks: z
    .object({
      default_parameter: z
        .string()
        .nullable()
        .describe("answers in a batch that is not interactive; unset there, every record fails with input_required (null: each question carries its own default)"),
    })
    .nullable()
    .describe("the flow asks a human in the Inbox (interactive batches); null when it never asks"),
  chunk: z
    .object({
      default_size: z.number().int().nullable().describe("null when the sizes depend on a mode (modes)"),
      max_size: z.number().int().nullable(),
      min_size: z.number().int().nullable(),
      parameter: z.string().nullable().describe("the flow chunks only in batches that set this parameter (null: always)"),
      modes: z
        .record(z.string(), z.object({ default_size: z.number().int(), max_size: z.number().int(), min_size: z.number().int() }))
        .nullable()
        .describe("the sizes per value of parameter (a mode of the flow); a value not listed runs one record per call"),
    })
    .nullable()
    .describe("the flow runs many records per call: a batch's chunk_size defaults to default_size, from min_size to max_size (per mode: modes); null: one record per call"),
});

export const DatasetSchema = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(["upload", "demo", "inline"]),
  description: z.string().nullable(),
  format: z.string().nullable(),
  id_field: z.string().nullable(),
  record_count: z.number().int(),
  size_bytes: z.number().int(),
  created_at: iso,
});
export type Dataset = z.infer<typeof DatasetSchema>;

export const DatasetRecordSchema = z.object({ record_id: z.string(), position: z.number().int(), data: json });
