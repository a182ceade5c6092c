CREATE TABLE "audit_log" (
	"audit_id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"actor_kind" text NOT NULL,
	"actor_psp_id" text,
	"credential_id" uuid,
	"actor_name" text NOT NULL,
	"via" text NOT NULL,
	"method" text NOT NULL,
	"route" text NOT NULL,
	"object" jsonb NOT NULL,
	"psp_id" text,
	"status" integer NOT NULL,
	"address" text
);
--> statement-breakpoint
CREATE TABLE "console_credentials" (
	"credential_id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"psp_id" text NOT NULL,
	"name" text NOT NULL,
	"token_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone,
	"last_used_at" timestamp with time zone,
	CONSTRAINT "console_credentials_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
ALTER TABLE "console_sessions" ADD COLUMN "credential_id" uuid;--> statement-breakpoint
ALTER TABLE "console_sessions" ADD COLUMN "psp_id" text;--> statement-breakpoint
ALTER TABLE "test_users" ADD COLUMN "owner_psp_id" text;--> statement-breakpoint
ALTER TABLE "console_credentials" ADD CONSTRAINT "console_credentials_psp_id_psps_psp_id_fk" FOREIGN KEY ("psp_id") REFERENCES "public"."psps"("psp_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_log_at_idx" ON "audit_log" USING btree ("at");--> statement-breakpoint
CREATE INDEX "audit_log_psp_idx" ON "audit_log" USING btree ("psp_id","at");--> statement-breakpoint
CREATE INDEX "audit_log_actor_psp_idx" ON "audit_log" USING btree ("actor_psp_id","at");--> statement-breakpoint
CREATE INDEX "console_credentials_psp_idx" ON "console_credentials" USING btree ("psp_id","created_at");--> statement-breakpoint
ALTER TABLE "console_sessions" ADD CONSTRAINT "console_sessions_credential_id_console_credentials_credential_id_fk" FOREIGN KEY ("credential_id") REFERENCES "public"."console_credentials"("credential_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "test_users" ADD CONSTRAINT "test_users_owner_psp_id_psps_psp_id_fk" FOREIGN KEY ("owner_psp_id") REFERENCES "public"."psps"("psp_id") ON DELETE set null ON UPDATE no action;