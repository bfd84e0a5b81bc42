ALTER TABLE "apps" ADD COLUMN "secret_verifier" text;--> statement-breakpoint
ALTER TABLE "apps" ADD COLUMN "demo" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "demo" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "vets" ADD COLUMN "session_version" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "vets" ADD COLUMN "demo" boolean DEFAULT false NOT NULL;--> statement-breakpoint
-- Records an earlier demo run seeded (.test is a reserved top-level domain: no real address has it).
UPDATE "vets" SET "demo" = true WHERE lower("email") LIKE '%@demo.test';--> statement-breakpoint
UPDATE "apps" SET "demo" = true WHERE "name" = 'demo';--> statement-breakpoint
UPDATE "users" SET "demo" = true WHERE lower("email") LIKE '%@demo.test' AND "app_id" IN (SELECT "id" FROM "apps" WHERE "name" = 'demo');
