// The command line the chunks bench scripts share: --shape=CxS runs that one shape alone (S = 1 is a
// plain, non-chunked batch), --rounds=N, --plan prints the plans.
export interface Shape {
  concurrency: number;
  chunkSize: number;
}

export function chunkBenchArgs(shapes: Shape[], defaultRounds: number): { shapes: Shape[]; rounds: number; showPlan: boolean } {
  const only = process.argv.find((a) => a.startsWith("--shape="))?.slice(8);
  return {
    shapes: shapes.filter((s) => !only || only === `${s.concurrency}x${s.chunkSize}`),
    rounds: Number(process.argv.find((a) => a.startsWith("--rounds="))?.slice(9) ?? defaultRounds),
    showPlan: process.argv.includes("--plan"),
  };
}
