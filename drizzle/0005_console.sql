CREATE TABLE "events" (
	"event_id" bigserial PRIMARY KEY NOT NULL,
	"psp_id" text NOT NULL,
	"payment_id" uuid,
	"kind" text NOT NULL,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "init_headers" jsonb;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "landing_passed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "app_opened_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "events_payment_idx" ON "events" USING btree ("payment_id","event_id") WHERE payment_id is not null;--> statement-breakpoint
CREATE INDEX "events_psp_kind_idx" ON "events" USING btree ("psp_id","kind","event_id");--> statement-breakpoint
CREATE INDEX "events_api_error_code_idx" ON "events" USING btree ("psp_id",("data"->>'errorCode'),"event_id") WHERE kind = 'api.error';--> statement-breakpoint
CREATE INDEX "delivery_attempts_trouble_idx" ON "delivery_attempts" USING btree ("created_at") WHERE outcome in ('NOT_DELIVERED', 'ABANDONED') or error is not null;--> statement-breakpoint
CREATE INDEX "payments_created_idx" ON "payments" USING btree ("created_at","payment_id");--> statement-breakpoint
CREATE INDEX "payments_psp_created_idx" ON "payments" USING btree ("psp_id","created_at","payment_id");--> statement-breakpoint
CREATE INDEX "payments_msn_created_idx" ON "payments" USING btree ("msn","created_at","payment_id");--> statement-breakpoint
CREATE INDEX "payments_state_created_idx" ON "payments" USING btree ("state","created_at","payment_id");--> statement-breakpoint
CREATE INDEX "payments_psp_state_created_idx" ON "payments" USING btree ("psp_id","state","created_at","payment_id");--> statement-breakpoint
CREATE INDEX "payments_msn_state_created_idx" ON "payments" USING btree ("msn","state","created_at","payment_id");--> statement-breakpoint
CREATE INDEX "payments_order_idx" ON "payments" USING btree ("merchant_order_id");--> statement-breakpoint
CREATE INDEX "status_updates_payment_idx" ON "status_updates" USING btree ("psp_id","psp_transaction_id","update_id");--> statement-breakpoint
CREATE INDEX "status_updates_rejected_psp_idx" ON "status_updates" USING btree ("psp_id","update_id") WHERE outcome = 'REJECTED';