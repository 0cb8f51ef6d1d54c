// The wire schemas, request and response, snake_case as on the wire: they validate the API's input,
// type its serializers (lib/api/serialize.ts), generate the OpenAPI document and type the dashboard
// and the CLI. Only zod and lib/contract, so the browser bundle can take them.
export * from "./wire";
export * from "./batch-options";
export * from "./batches";
export * from "./jobs";
export * from "./datasets";
export * from "./system";
