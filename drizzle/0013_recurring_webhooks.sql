-- Webhooks of the Recurring API (open-questions G9): in the transaction of each change, every
-- registration of the agreement's PSP (for its sales unit, or for all of them) that asked for the
-- event's type gets a delivery. Deliveries of one agreement and its charges share the agreement's uuid
-- as their payment_id, so that they are delivered in order. The payload is this server's own
-- (the published material names the events but not their bodies):
--   {msn, agreementId, eventType, occurred, actor?} for an agreement (rejected: a PENDING one the user stopped),
--   {msn, agreementId, chargeId, chargeType, amount, currency, status, eventType, occurred} for a charge.
CREATE FUNCTION "recurring_charge_events_to_webhooks"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Most history (CREATE, PAYMENT_INFO) sends nothing, and most PSPs register nothing for Recurring.
  IF NOT EXISTS (SELECT 1 FROM new_events WHERE event IN ('RESERVE', 'CAPTURE', 'CANCEL', 'REFUND') OR (event = 'FAIL' AND success))
    OR NOT EXISTS (SELECT 1 FROM webhooks WHERE events && ARRAY['recurring.charge-reserved.v1', 'recurring.charge-captured.v1', 'recurring.charge-canceled.v1',
      'recurring.charge-refunded.v1', 'recurring.charge-failed.v1']::text[]) THEN
    RETURN NULL;
  END IF;
  INSERT INTO webhook_deliveries (webhook_id, event_id, payment_id, event_type, payload, status, next_attempt_at, created_at)
  SELECT w.webhook_id, ne.event_id, a.uuid, t.event_type,
    jsonb_build_object(
      'msn', c.msn, 'agreementId', c.agreement_id, 'chargeId', c.charge_id, 'chargeType', c.type,
      'amount', ne.amount, 'currency', c.currency, 'status', c.status, 'eventType', t.event_type,
      'occurred', to_char(ne.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
    'PENDING', ne.created_at, ne.created_at
  FROM new_events ne
  CROSS JOIN LATERAL (SELECT CASE ne.event
      WHEN 'RESERVE' THEN 'recurring.charge-reserved.v1'
      WHEN 'CAPTURE' THEN 'recurring.charge-captured.v1'
      WHEN 'CANCEL' THEN 'recurring.charge-canceled.v1'
      WHEN 'REFUND' THEN 'recurring.charge-refunded.v1'
      WHEN 'FAIL' THEN CASE WHEN ne.success THEN 'recurring.charge-failed.v1' END
    END AS event_type) t
  JOIN recurring_charges c ON c.msn = ne.msn AND c.charge_id = ne.charge_id
  JOIN agreements a ON a.agreement_id = c.agreement_id
  JOIN webhooks w ON w.psp_id = a.psp_id AND (w.msn IS NULL OR w.msn = a.msn) AND t.event_type = ANY (w.events)
  WHERE t.event_type IS NOT NULL
  ORDER BY ne.event_id, w.webhook_id;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER "recurring_charge_events_webhooks" AFTER INSERT ON "recurring_charge_events" REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION "recurring_charge_events_to_webhooks"();
--> statement-breakpoint
CREATE FUNCTION "agreements_to_webhooks"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  -- A PENDING agreement the user stops is one the user rejected.
  event_type text := CASE
    WHEN NEW.status = 'ACTIVE' THEN 'recurring.agreement-activated.v1'
    WHEN NEW.status = 'STOPPED' AND OLD.status = 'PENDING' AND NEW.stopped_by = 'USER' THEN 'recurring.agreement-rejected.v1'
    WHEN NEW.status = 'STOPPED' THEN 'recurring.agreement-stopped.v1'
    WHEN NEW.status = 'EXPIRED' THEN 'recurring.agreement-expired.v1'
  END;
  event_id bigint;
BEGIN
  IF event_type IS NULL OR NOT EXISTS (
    SELECT 1 FROM webhooks w WHERE w.psp_id = NEW.psp_id AND (w.msn IS NULL OR w.msn = NEW.msn) AND event_type = ANY (w.events)
  ) THEN
    RETURN NULL;
  END IF;
  event_id := nextval(pg_get_serial_sequence('recurring_charge_events', 'event_id'));
  INSERT INTO webhook_deliveries (webhook_id, event_id, payment_id, event_type, payload, status, next_attempt_at, created_at)
  SELECT w.webhook_id, event_id, NEW.uuid, event_type,
    jsonb_strip_nulls(jsonb_build_object(
      'msn', NEW.msn, 'agreementId', NEW.agreement_id, 'eventType', event_type,
      'actor', CASE WHEN NEW.status = 'STOPPED' AND event_type = 'recurring.agreement-stopped.v1' THEN COALESCE(NEW.stopped_by, 'MERCHANT') END,
      'occurred', to_char(NEW.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))),
    'PENDING', NEW.updated_at, NEW.updated_at
  FROM webhooks w
  WHERE w.psp_id = NEW.psp_id AND (w.msn IS NULL OR w.msn = NEW.msn) AND event_type = ANY (w.events)
  ORDER BY w.webhook_id;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER "agreements_webhooks" AFTER UPDATE OF "status" ON "agreements" FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION "agreements_to_webhooks"();
