// The statement a function of lib/db/sql sends, with its parameters, without running it: the chunks
// bench scripts time and explain exactly what the worker sends.
import type { Queryable } from "@/lib/db/sql/queryable";

export interface Statement {
  text: string;
  values: unknown[];
}

export async function recorded(send: (db: Queryable) => Promise<unknown>): Promise<Statement> {
  let sent: Statement | null = null;
  const recorder: Queryable = {
    query: (async (text: string | Statement, values?: unknown[]) => {
      sent = typeof text === "string" ? { text, values: values ?? [] } : text;
      return { rows: [] };
    }) as unknown as Queryable["query"],
  };
  await send(recorder).catch(() => {});
  if (!sent) throw new Error("the function sent no statement");
  return sent;
}
