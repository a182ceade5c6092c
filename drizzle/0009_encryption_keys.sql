CREATE TABLE "psp_encryption_keys" (
	"key_id" uuid PRIMARY KEY NOT NULL,
	"psp_id" text NOT NULL,
	"public_key_pem" text NOT NULL,
	"bits" integer NOT NULL,
	"fingerprint" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "psp_encryption_keys" ADD CONSTRAINT "psp_encryption_keys_psp_id_psps_psp_id_fk" FOREIGN KEY ("psp_id") REFERENCES "public"."psps"("psp_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "psp_encryption_keys_psp_idx" ON "psp_encryption_keys" USING btree ("psp_id","created_at");