CREATE TABLE "batch_runs" (
	"run_id" bigserial PRIMARY KEY NOT NULL,
	"trigger" text NOT NULL,
	"scheduled_for" timestamp with time zone,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"applied" integer DEFAULT 0 NOT NULL,
	"rejected" integer DEFAULT 0 NOT NULL,
	"rejected_by_reason" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"duration_ms" integer,
	CONSTRAINT "batch_runs_scheduled_for_unique" UNIQUE("scheduled_for")
);
--> statement-breakpoint
CREATE TABLE "status_updates" (
	"update_id" bigserial PRIMARY KEY NOT NULL,
	"psp_id" text NOT NULL,
	"psp_transaction_id" text NOT NULL,
	"status" text NOT NULL,
	"amount" bigint NOT NULL,
	"currency" text NOT NULL,
	"payment_text" text,
	"operation_status" text NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"processed_at" timestamp with time zone,
	"run_id" bigint,
	"outcome" text,
	"reason" text
);
--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "reserved_amount" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "captured_amount" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "cancelled_amount" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "refunded_amount" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "status_updates_pending_idx" ON "status_updates" USING btree ("update_id") WHERE processed_at is null;--> statement-breakpoint
CREATE INDEX "status_updates_rejected_idx" ON "status_updates" USING btree ("run_id") WHERE outcome = 'REJECTED';--> statement-breakpoint
CREATE INDEX "payments_tx_idx" ON "payments" USING btree ("psp_transaction_id");