ALTER TABLE "consultations" ADD COLUMN "region" text;--> statement-breakpoint
ALTER TABLE "consultations" ADD COLUMN "care" text DEFAULT 'treatment' NOT NULL;--> statement-breakpoint
ALTER TABLE "consultations" ADD COLUMN "advice_fallback" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "region" text;--> statement-breakpoint
ALTER TABLE "vets" ADD COLUMN "licenses" text[] DEFAULT '{}'::text[] NOT NULL;