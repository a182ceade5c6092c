CREATE TABLE "card_callbacks" (
	"callback_id" bigserial PRIMARY KEY NOT NULL,
	"payment_id" uuid NOT NULL,
	"authorization_attempt_id" uuid NOT NULL,
	"round" integer NOT NULL,
	"url" text NOT NULL,
	"request_headers" jsonb NOT NULL,
	"request_body" jsonb NOT NULL,
	"outcome" text NOT NULL,
	"response_status" integer,
	"response_body" text,
	"latency_ms" integer,
	"error" text,
	"lease_until" timestamp with time zone,
	"completed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "epayment_events" (
	"event_id" bigserial PRIMARY KEY NOT NULL,
	"payment_id" uuid NOT NULL,
	"name" text NOT NULL,
	"amount" integer NOT NULL,
	"psp_reference" text NOT NULL,
	"idempotency_key" text,
	"success" boolean NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "epayments" (
	"payment_id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"psp_id" text NOT NULL,
	"msn" text NOT NULL,
	"reference" text NOT NULL,
	"currency" text NOT NULL,
	"amount" integer NOT NULL,
	"state" text NOT NULL,
	"user_flow" text NOT NULL,
	"payment_method" text NOT NULL,
	"psp_reference" text NOT NULL,
	"card_psp_reference" text NOT NULL,
	"card_callback_url" text NOT NULL,
	"allowed_card_types" jsonb NOT NULL,
	"prefer_visa_part_of_visa_dankort" boolean DEFAULT false NOT NULL,
	"public_encryption_key_id" text,
	"customer_phone" text,
	"return_url" text,
	"payment_description" text,
	"metadata" jsonb,
	"extra" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"token_hash" text NOT NULL,
	"expires_at" timestamp with time zone,
	"callback_lease_until" timestamp with time zone,
	"closed_reason" text,
	"failure_message" text,
	"soft_decline_url" text,
	"pending_attempt_id" uuid,
	"soft_decline_ref_hash" text NOT NULL,
	"phone" text,
	"card_id" uuid,
	"card_bin" text,
	"network_transaction_reference" text,
	"authorized_amount" integer DEFAULT 0 NOT NULL,
	"captured_amount" integer DEFAULT 0 NOT NULL,
	"refunded_amount" integer DEFAULT 0 NOT NULL,
	"cancelled_amount" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "psps" ADD COLUMN "client_secret_sealed" text;--> statement-breakpoint
ALTER TABLE "card_callbacks" ADD CONSTRAINT "card_callbacks_payment_id_epayments_payment_id_fk" FOREIGN KEY ("payment_id") REFERENCES "public"."epayments"("payment_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "epayment_events" ADD CONSTRAINT "epayment_events_payment_id_epayments_payment_id_fk" FOREIGN KEY ("payment_id") REFERENCES "public"."epayments"("payment_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "card_callbacks_payment_idx" ON "card_callbacks" USING btree ("payment_id","callback_id");--> statement-breakpoint
CREATE INDEX "card_callbacks_in_flight_idx" ON "card_callbacks" USING btree ("lease_until") WHERE outcome = 'IN_FLIGHT';--> statement-breakpoint
CREATE INDEX "epayment_events_payment_idx" ON "epayment_events" USING btree ("payment_id","event_id");--> statement-breakpoint
CREATE UNIQUE INDEX "epayments_msn_reference_uq" ON "epayments" USING btree ("msn","reference");--> statement-breakpoint
CREATE UNIQUE INDEX "epayments_token_uq" ON "epayments" USING btree ("token_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "epayments_soft_decline_ref_uq" ON "epayments" USING btree ("soft_decline_ref_hash");--> statement-breakpoint
CREATE INDEX "epayments_phone_idx" ON "epayments" USING btree ("phone","created_at") WHERE phone is not null;--> statement-breakpoint
CREATE INDEX "epayments_due_idx" ON "epayments" USING btree ("expires_at") WHERE state = 'CREATED';--> statement-breakpoint
CREATE INDEX "epayments_created_idx" ON "epayments" USING btree ("created_at","payment_id");--> statement-breakpoint
CREATE INDEX "epayments_psp_created_idx" ON "epayments" USING btree ("psp_id","created_at","payment_id");--> statement-breakpoint
CREATE INDEX "epayments_msn_created_idx" ON "epayments" USING btree ("msn","created_at","payment_id");