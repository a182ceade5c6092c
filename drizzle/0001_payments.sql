CREATE TABLE "delivery_attempts" (
	"attempt_id" bigserial PRIMARY KEY NOT NULL,
	"payment_id" uuid NOT NULL,
	"payment_state" text NOT NULL,
	"url" text NOT NULL,
	"request_body" jsonb NOT NULL,
	"response_status" integer,
	"response_body" text,
	"latency_ms" integer NOT NULL,
	"outcome" text NOT NULL,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "payment_log" (
	"entry_id" bigserial PRIMARY KEY NOT NULL,
	"payment_id" uuid NOT NULL,
	"operation" text NOT NULL,
	"amount" integer NOT NULL,
	"payment_text" text,
	"success" boolean NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "payments" (
	"payment_id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"psp_id" text NOT NULL,
	"psp_transaction_id" text NOT NULL,
	"msn" text NOT NULL,
	"merchant_order_id" text NOT NULL,
	"amount" integer NOT NULL,
	"currency" text NOT NULL,
	"customer_mobile_number" text,
	"psp_redirect_url" text NOT NULL,
	"make_payment_url" text NOT NULL,
	"make_payment_token" text,
	"payment_text" text,
	"is_app" boolean DEFAULT false NOT NULL,
	"skip_landing_page" boolean DEFAULT false NOT NULL,
	"merchant_agreement_url" text,
	"token_hash" text NOT NULL,
	"three_ds_ref" text NOT NULL,
	"state" text NOT NULL,
	"phone" text,
	"card_id" uuid,
	"url_3d_secure" text,
	"delivery_round" integer DEFAULT 0 NOT NULL,
	"error_id" text,
	"error_text" text,
	"failure_reason" text,
	"expires_at" timestamp with time zone,
	"lease_until" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "delivery_attempts" ADD CONSTRAINT "delivery_attempts_payment_id_payments_payment_id_fk" FOREIGN KEY ("payment_id") REFERENCES "public"."payments"("payment_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payment_log" ADD CONSTRAINT "payment_log_payment_id_payments_payment_id_fk" FOREIGN KEY ("payment_id") REFERENCES "public"."payments"("payment_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "delivery_attempts_payment_idx" ON "delivery_attempts" USING btree ("payment_id","attempt_id");--> statement-breakpoint
CREATE INDEX "payment_log_payment_idx" ON "payment_log" USING btree ("payment_id","entry_id");--> statement-breakpoint
CREATE UNIQUE INDEX "payments_psp_tx_uq" ON "payments" USING btree ("psp_id","psp_transaction_id");--> statement-breakpoint
CREATE UNIQUE INDEX "payments_msn_order_uq" ON "payments" USING btree ("msn","merchant_order_id");--> statement-breakpoint
CREATE UNIQUE INDEX "payments_token_uq" ON "payments" USING btree ("token_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "payments_3ds_uq" ON "payments" USING btree ("three_ds_ref");--> statement-breakpoint
CREATE INDEX "payments_due_idx" ON "payments" USING btree ("expires_at") WHERE state in ('INITIATED', 'AWAITING_USER', 'AWAITING_3DS');--> statement-breakpoint
CREATE INDEX "payments_lease_idx" ON "payments" USING btree ("lease_until") WHERE state = 'DELIVERING';--> statement-breakpoint
CREATE INDEX "payments_phone_idx" ON "payments" USING btree ("phone","created_at");