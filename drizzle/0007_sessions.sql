CREATE TABLE "console_sessions" (
	"session_id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"token_hash" text NOT NULL,
	"admin_token_hash" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"last_seen_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"ended_at" timestamp with time zone,
	"address" text,
	"user_agent" text,
	CONSTRAINT "console_sessions_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE TABLE "verified_credentials" (
	"digest" text PRIMARY KEY NOT NULL,
	"psp_id" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "verified_credentials" ADD CONSTRAINT "verified_credentials_psp_id_psps_psp_id_fk" FOREIGN KEY ("psp_id") REFERENCES "public"."psps"("psp_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "console_sessions_open_idx" ON "console_sessions" USING btree ("last_seen_at") WHERE ended_at is null;--> statement-breakpoint
CREATE INDEX "verified_credentials_psp_idx" ON "verified_credentials" USING btree ("psp_id");