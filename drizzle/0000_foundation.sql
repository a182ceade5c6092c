CREATE TABLE "cards" (
	"card_id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"phone" text NOT NULL,
	"brand" text NOT NULL,
	"last4" text NOT NULL,
	"expiry_month" text NOT NULL,
	"expiry_year" text NOT NULL,
	"position" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"psp_id" text NOT NULL,
	"scope" text NOT NULL,
	"key" text NOT NULL,
	"request_hash" text NOT NULL,
	"status_code" integer,
	"response_body" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "idempotency_keys_psp_id_scope_key_pk" PRIMARY KEY("psp_id","scope","key")
);
--> statement-breakpoint
CREATE TABLE "merchants" (
	"msn" text PRIMARY KEY NOT NULL,
	"psp_id" text NOT NULL,
	"name" text NOT NULL,
	"company_name" text NOT NULL,
	"company_email" text NOT NULL,
	"organization_number" text NOT NULL,
	"mcc_code" text,
	"email" text,
	"website" text,
	"logo" text,
	"address" jsonb NOT NULL,
	"status" text DEFAULT 'ACTIVE' NOT NULL,
	"skip_landing_page" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "psps" (
	"psp_id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"client_id" text NOT NULL,
	"client_secret_hash" text NOT NULL,
	"subscription_key_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "psps_client_id_unique" UNIQUE("client_id"),
	CONSTRAINT "psps_subscription_key_hash_unique" UNIQUE("subscription_key_hash")
);
--> statement-breakpoint
CREATE TABLE "settings" (
	"key" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "signing_keys" (
	"kid" text PRIMARY KEY NOT NULL,
	"alg" text NOT NULL,
	"private_jwk" jsonb NOT NULL,
	"public_jwk" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "test_users" (
	"phone" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "cards" ADD CONSTRAINT "cards_phone_test_users_phone_fk" FOREIGN KEY ("phone") REFERENCES "public"."test_users"("phone") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "merchants" ADD CONSTRAINT "merchants_psp_id_psps_psp_id_fk" FOREIGN KEY ("psp_id") REFERENCES "public"."psps"("psp_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "cards_phone_idx" ON "cards" USING btree ("phone","position");--> statement-breakpoint
CREATE INDEX "merchants_psp_idx" ON "merchants" USING btree ("psp_id","created_at");