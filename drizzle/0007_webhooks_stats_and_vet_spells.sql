CREATE TABLE "consultation_vets" (
	"consultation_id" uuid NOT NULL,
	"vet_id" integer NOT NULL,
	"joined_at" timestamp with time zone NOT NULL,
	"left_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "stats_daily" (
	"day" text NOT NULL,
	"app_id" integer NOT NULL,
	"vet_id" integer NOT NULL,
	"requests" integer NOT NULL,
	"matched" integer NOT NULL,
	"cancelled_before_match" integer NOT NULL,
	"expired" integer NOT NULL,
	"wait_count" integer NOT NULL,
	"wait_sum_ms" bigint NOT NULL,
	"wait_hist" jsonb NOT NULL,
	"handle_count" integer NOT NULL,
	"handle_sum_ms" bigint NOT NULL,
	"handle_hist" jsonb NOT NULL,
	"outcomes" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "stats_days_closed" (
	"day" text PRIMARY KEY NOT NULL,
	"computed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhook_outbox" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "webhook_outbox_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"app_id" integer NOT NULL,
	"consultation_id" uuid NOT NULL,
	"type" text NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone NOT NULL,
	"retry_until" timestamp with time zone,
	"locked_until" timestamp with time zone,
	"body" text,
	"last_status" integer,
	"last_error" text,
	"last_attempt_at" timestamp with time zone,
	"delivered_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "apps" ADD COLUMN "webhook_url" text;--> statement-breakpoint
ALTER TABLE "apps" ADD COLUMN "webhook_secret_enc" text;--> statement-breakpoint
ALTER TABLE "feedback" ADD COLUMN "outcome" text;--> statement-breakpoint
ALTER TABLE "consultation_vets" ADD CONSTRAINT "consultation_vets_consultation_id_consultations_id_fk" FOREIGN KEY ("consultation_id") REFERENCES "public"."consultations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "consultation_vets" ADD CONSTRAINT "consultation_vets_vet_id_vets_id_fk" FOREIGN KEY ("vet_id") REFERENCES "public"."vets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "consultation_vets_spell" ON "consultation_vets" USING btree ("consultation_id","vet_id","joined_at");--> statement-breakpoint
CREATE INDEX "consultation_vets_vet" ON "consultation_vets" USING btree ("vet_id");--> statement-breakpoint
CREATE UNIQUE INDEX "stats_daily_key" ON "stats_daily" USING btree ("day","app_id","vet_id");--> statement-breakpoint
CREATE INDEX "webhook_outbox_due" ON "webhook_outbox" USING btree ("next_attempt_at") WHERE "webhook_outbox"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "webhook_outbox_pending_consultation" ON "webhook_outbox" USING btree ("consultation_id","id") WHERE "webhook_outbox"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "webhook_outbox_app" ON "webhook_outbox" USING btree ("app_id","id");--> statement-breakpoint
CREATE INDEX "webhook_outbox_app_open" ON "webhook_outbox" USING btree ("app_id","id") WHERE "webhook_outbox"."status" <> 'delivered';--> statement-breakpoint
CREATE INDEX "consultations_created" ON "consultations" USING btree ("created_at");--> statement-breakpoint
-- Room on each page for a claim's update to stay a HOT update (no index changes on a claim).
ALTER TABLE "webhook_outbox" SET (fillfactor = 70);--> statement-breakpoint
-- Consultations held before this build: their last vet, as far as the row tells.
INSERT INTO "consultation_vets" ("consultation_id", "vet_id", "joined_at", "left_at")
SELECT "id", "vet_id", coalesce("accepted_at", "created_at"), CASE WHEN "status" IN ('ended', 'cancelled', 'expired') THEN coalesce("ended_at", "updated_at") END
FROM "consultations" WHERE "vet_id" IS NOT NULL AND "accepted_at" IS NOT NULL;
