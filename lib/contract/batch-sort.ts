// How the batches list can be ordered: declared once for the API's query schema, the engine and the
// dashboard's sortable headers. No imports, so the browser bundle can take it as it is.

/** created: creation time; progress: share of records in a final state; cost: spent; rate: jobs per second */
export const BATCH_SORTS = ["created", "progress", "cost", "rate"] as const;
export type BatchSort = (typeof BATCH_SORTS)[number];

export const SORT_ORDERS = ["desc", "asc"] as const;
export type SortOrder = (typeof SORT_ORDERS)[number];
