ALTER TABLE "consultations" ADD COLUMN IF NOT EXISTS "language" text;--> statement-breakpoint
ALTER TABLE "consultations" ADD COLUMN IF NOT EXISTS "emergency" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "consultations" ADD COLUMN IF NOT EXISTS "species" text;--> statement-breakpoint
ALTER TABLE "consultations" ADD COLUMN IF NOT EXISTS "priority" text DEFAULT 'normal' NOT NULL;--> statement-breakpoint
ALTER TABLE "vets" ADD COLUMN IF NOT EXISTS "species" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "vets" ADD COLUMN IF NOT EXISTS "languages" text[] DEFAULT '{en}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "vets" ADD COLUMN IF NOT EXISTS "max_chats" integer;