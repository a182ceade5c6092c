ALTER TABLE "delivery_attempts" ALTER COLUMN "latency_ms" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "batch_runs" ADD COLUMN "aggregate_window" text;--> statement-breakpoint
ALTER TABLE "batch_runs" ADD COLUMN "invocations" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "batch_runs" ADD COLUMN "resumes_run_id" bigint;--> statement-breakpoint
ALTER TABLE "batch_runs" ADD COLUMN "lease_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "batch_runs" ADD COLUMN "interrupted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "delivery_attempts" ADD COLUMN "sent_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "delivery_attempts" ADD COLUMN "lease_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "delivery_attempts" ADD COLUMN "completed_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "delivery_attempts_pending_idx" ON "delivery_attempts" USING btree ("attempt_id") WHERE outcome = 'PENDING';--> statement-breakpoint
CREATE INDEX "delivery_attempts_in_flight_idx" ON "delivery_attempts" USING btree ("lease_until") WHERE outcome = 'IN_FLIGHT';--> statement-breakpoint
CREATE INDEX "idempotency_keys_created_idx" ON "idempotency_keys" USING btree ("created_at");--> statement-breakpoint
ALTER TABLE "batch_runs" ADD CONSTRAINT "batch_runs_aggregate_window_unique" UNIQUE("aggregate_window");--> statement-breakpoint
UPDATE "delivery_attempts" SET "sent_at" = "created_at", "completed_at" = "created_at" WHERE "sent_at" IS NULL;
