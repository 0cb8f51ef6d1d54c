// The engine's transactions (lib/db/tx.ts); its statements are the functions of lib/db/sql.
export { withTx } from "@/lib/db/tx";
