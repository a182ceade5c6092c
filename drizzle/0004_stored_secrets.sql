ALTER TABLE "test_users" ADD COLUMN "pin_hash" text;--> statement-breakpoint
-- The 3-D Secure reference is kept only as its sha256 (the URLs sent to the PSP derive it again).
UPDATE "payments" SET "three_ds_ref" = encode(sha256(convert_to("three_ds_ref", 'UTF8')), 'hex');--> statement-breakpoint
-- Recorded makePayment requests keep the operation URLs without the reference.
UPDATE "delivery_attempts"
  SET "request_body" = regexp_replace("request_body"::text, '(mobileintercept\?transactionId=)[^&"]*', '\1[redacted]', 'g')::jsonb
  WHERE "request_body"::text LIKE '%mobileintercept?transactionId=%';
