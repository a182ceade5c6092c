CREATE TABLE "fault_rules" (
	"rule_id" bigserial PRIMARY KEY NOT NULL,
	"route" text NOT NULL,
	"psp_id" text,
	"msn" text,
	"psp_transaction_id" text,
	"status" integer,
	"retry_after_seconds" integer,
	"delay_ms" integer DEFAULT 0 NOT NULL,
	"drop_connection" boolean DEFAULT false NOT NULL,
	"remaining" integer,
	"probability" double precision,
	"hits" integer DEFAULT 0 NOT NULL,
	"expires_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "test_controls" (
	"id" integer PRIMARY KEY NOT NULL,
	"clock_offset_ms" bigint DEFAULT 0 NOT NULL,
	"faults_version" bigint DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
