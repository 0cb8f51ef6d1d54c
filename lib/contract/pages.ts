// A page of a keyset-paginated list, as the engine and the datasets return it. No imports, so both
// (and the browser) can take it without depending on each other.

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
  total: number;
}
