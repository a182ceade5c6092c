CREATE TABLE "agreement_callbacks" (
	"callback_id" bigserial PRIMARY KEY NOT NULL,
	"agreement_id" text NOT NULL,
	"purpose" text NOT NULL,
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
	"phone" text,
	"card_id" uuid,
	"completed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "agreements" (
	"agreement_id" text PRIMARY KEY NOT NULL,
	"uuid" uuid DEFAULT gen_random_uuid() NOT NULL,
	"psp_id" text NOT NULL,
	"msn" text NOT NULL,
	"status" text NOT NULL,
	"pricing_type" text NOT NULL,
	"currency" text NOT NULL,
	"amount" integer,
	"suggested_max_amount" integer,
	"max_amount" integer,
	"interval_unit" text,
	"interval_count" integer,
	"campaign" jsonb,
	"product_name" text NOT NULL,
	"product_description" text,
	"merchant_agreement_url" text NOT NULL,
	"merchant_redirect_url" text NOT NULL,
	"external_id" text,
	"country_code" text NOT NULL,
	"draft_phone" text,
	"extra" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"card_psp_reference" text NOT NULL,
	"card_callback_url" text NOT NULL,
	"allowed_card_types" jsonb NOT NULL,
	"prefer_visa_part_of_visa_dankort" boolean DEFAULT false NOT NULL,
	"public_encryption_key_id" text,
	"initial_charge_id" text,
	"phone" text,
	"card_id" uuid,
	"card_type" text,
	"closed_reason" text,
	"failure_message" text,
	"callback_lease_until" timestamp with time zone,
	"stopped_by" text,
	"expires_at" timestamp with time zone NOT NULL,
	"started_at" timestamp with time zone,
	"stopped_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "recurring_charge_events" (
	"event_id" bigserial PRIMARY KEY NOT NULL,
	"msn" text NOT NULL,
	"charge_id" text NOT NULL,
	"event" text NOT NULL,
	"amount" integer NOT NULL,
	"idempotency_key" text,
	"success" boolean NOT NULL,
	"detail" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "recurring_charges" (
	"msn" text NOT NULL,
	"charge_id" text NOT NULL,
	"agreement_id" text NOT NULL,
	"psp_id" text NOT NULL,
	"type" text NOT NULL,
	"transaction_type" text NOT NULL,
	"amount" integer NOT NULL,
	"currency" text NOT NULL,
	"description" text NOT NULL,
	"due" text,
	"retry_days" integer DEFAULT 0 NOT NULL,
	"retry_until" timestamp with time zone,
	"status" text NOT NULL,
	"external_id" text,
	"request_hash" text,
	"payment_info_count" integer DEFAULT 0 NOT NULL,
	"payment_info_at" timestamp with time zone,
	"result" jsonb,
	"failure_reason" text,
	"failure_description" text,
	"captured_amount" integer DEFAULT 0 NOT NULL,
	"refunded_amount" integer DEFAULT 0 NOT NULL,
	"cancelled_amount" integer DEFAULT 0 NOT NULL,
	"transaction_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "recurring_charges_msn_charge_id_pk" PRIMARY KEY("msn","charge_id")
);
--> statement-breakpoint
ALTER TABLE "agreement_callbacks" ADD CONSTRAINT "agreement_callbacks_agreement_id_agreements_agreement_id_fk" FOREIGN KEY ("agreement_id") REFERENCES "public"."agreements"("agreement_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recurring_charges" ADD CONSTRAINT "recurring_charges_agreement_id_agreements_agreement_id_fk" FOREIGN KEY ("agreement_id") REFERENCES "public"."agreements"("agreement_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "agreement_callbacks_agreement_idx" ON "agreement_callbacks" USING btree ("agreement_id","callback_id");--> statement-breakpoint
CREATE UNIQUE INDEX "agreements_uuid_uq" ON "agreements" USING btree ("uuid");--> statement-breakpoint
CREATE INDEX "agreements_msn_status_idx" ON "agreements" USING btree ("msn","status","created_at","agreement_id");--> statement-breakpoint
CREATE INDEX "agreements_msn_created_idx" ON "agreements" USING btree ("msn","created_at","agreement_id");--> statement-breakpoint
CREATE INDEX "agreements_expiry_idx" ON "agreements" USING btree ("expires_at") WHERE status = 'PENDING';--> statement-breakpoint
CREATE INDEX "agreements_created_idx" ON "agreements" USING btree ("created_at","agreement_id");--> statement-breakpoint
CREATE INDEX "agreements_phone_idx" ON "agreements" USING btree ("phone","created_at") WHERE phone is not null;--> statement-breakpoint
CREATE INDEX "recurring_charge_events_charge_idx" ON "recurring_charge_events" USING btree ("msn","charge_id","event_id");--> statement-breakpoint
CREATE INDEX "recurring_charges_agreement_idx" ON "recurring_charges" USING btree ("agreement_id","created_at");--> statement-breakpoint
CREATE INDEX "recurring_charges_retry_idx" ON "recurring_charges" USING btree ("retry_until") WHERE status in ('DUE', 'PROCESSING');--> statement-breakpoint
CREATE INDEX "recurring_charges_created_idx" ON "recurring_charges" USING btree ("created_at");