CREATE TABLE "webhook_deliveries" (
	"delivery_id" bigserial PRIMARY KEY NOT NULL,
	"webhook_id" uuid NOT NULL,
	"event_id" bigint NOT NULL,
	"payment_id" uuid NOT NULL,
	"event_type" text NOT NULL,
	"payload" jsonb NOT NULL,
	"status" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone NOT NULL,
	"lease_until" timestamp with time zone,
	"last_request_headers" jsonb,
	"last_status" integer,
	"last_response" text,
	"last_error" text,
	"last_latency_ms" integer,
	"last_attempt_at" timestamp with time zone,
	"delivered_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhooks" (
	"webhook_id" uuid PRIMARY KEY NOT NULL,
	"psp_id" text NOT NULL,
	"msn" text,
	"url" text NOT NULL,
	"events" text[] NOT NULL,
	"secret_sealed" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_webhook_id_webhooks_webhook_id_fk" FOREIGN KEY ("webhook_id") REFERENCES "public"."webhooks"("webhook_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhooks" ADD CONSTRAINT "webhooks_psp_id_psps_psp_id_fk" FOREIGN KEY ("psp_id") REFERENCES "public"."psps"("psp_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "webhook_deliveries_due_idx" ON "webhook_deliveries" USING btree ("next_attempt_at") WHERE status = 'PENDING';--> statement-breakpoint
CREATE INDEX "webhook_deliveries_order_idx" ON "webhook_deliveries" USING btree ("webhook_id","payment_id","delivery_id") WHERE status = 'PENDING';--> statement-breakpoint
CREATE INDEX "webhook_deliveries_webhook_idx" ON "webhook_deliveries" USING btree ("webhook_id","delivery_id");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_payment_idx" ON "webhook_deliveries" USING btree ("payment_id","delivery_id");--> statement-breakpoint
CREATE INDEX "webhooks_psp_idx" ON "webhooks" USING btree ("psp_id","msn");--> statement-breakpoint
-- The outbox is filled in the transaction of each ePayment event: every registration of the payment's
-- PSP (for its sales unit, or for all of them) that asked for the event's type gets a delivery with the
-- published payload. Statement-level, with the statement's new events as a table: one insert for a
-- batch of events.
CREATE FUNCTION "epayment_events_to_webhooks"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO webhook_deliveries (webhook_id, event_id, payment_id, event_type, payload, status, next_attempt_at, created_at)
  SELECT w.webhook_id, ne.event_id, ne.payment_id, t.event_type,
    jsonb_build_object(
      'msn', p.msn, 'reference', p.reference, 'pspReference', ne.psp_reference, 'name', ne.name,
      'amount', jsonb_build_object('currency', p.currency, 'value', ne.amount),
      'timestamp', to_char(ne.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
      'idempotencyKey', ne.idempotency_key, 'success', ne.success),
    'PENDING', ne.created_at, ne.created_at
  FROM new_events ne
  JOIN epayments p ON p.payment_id = ne.payment_id
  CROSS JOIN LATERAL (SELECT 'epayments.payment.' || lower(ne.name) || '.v1' AS event_type) t
  JOIN webhooks w ON w.psp_id = p.psp_id AND (w.msn IS NULL OR w.msn = p.msn) AND t.event_type = ANY (w.events)
  ORDER BY ne.event_id, w.webhook_id;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER "epayment_events_webhooks" AFTER INSERT ON "epayment_events" REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION "epayment_events_to_webhooks"();
