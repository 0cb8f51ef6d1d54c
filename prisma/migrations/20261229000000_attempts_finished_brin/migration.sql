-- The duration chart reads the percentiles of a batch's still-open time buckets: the attempts that
-- finished in the last seconds. Rows arrive in finished_at order, so a BRIN index finds them by
-- reading the table's last pages; it costs the cycle's INSERT almost nothing (a btree would add a
-- second index write per attempt).
CREATE INDEX "job_attempts_finished_at_idx" ON "job_attempts" USING BRIN ("finished_at");
