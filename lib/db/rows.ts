// Rows of hand-written SQL (lib/db/sql) typed by the Prisma models of prisma/schema.prisma: the model's
// fields under their column names. One declaration of the model serves both ways of reading it.

/** "costSpent" -> "cost_spent": a model field's column (the schema maps every field to its snake_case column). */
type Snake<S extends string> = S extends `${infer C}${infer Rest}` ? `${C extends Lowercase<C> ? C : `_${Lowercase<C>}`}${Snake<Rest>}` : S;

/** A table's row as hand-written SQL (`SELECT *`) returns it: the Prisma model's fields under their column names, with the model's types. */
export type RowOf<M> = { [K in keyof M & string as Snake<K>]: M[K] };

const camelCache = new Map<string, string>();
const camel = (column: string) => {
  let key = camelCache.get(column);
  if (key === undefined) camelCache.set(column, (key = column.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())));
  return key;
};

/** A row of hand-written SQL as its Prisma model (the reverse of RowOf), so one mapper serves both reads. */
export function modelOf<M>(row: RowOf<M>): M {
  const out: Record<string, unknown> = {};
  for (const [column, value] of Object.entries(row)) out[camel(column)] = value;
  return out as M;
}
