ALTER TABLE "users" ADD CONSTRAINT "users_app_id_id" UNIQUE("app_id","id");--> statement-breakpoint
ALTER TABLE "consultations" ADD CONSTRAINT "consultations_app_user_fk" FOREIGN KEY ("app_id","user_id") REFERENCES "public"."users"("app_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "consultations" DROP CONSTRAINT "consultations_app_id_apps_id_fk";--> statement-breakpoint
ALTER TABLE "consultations" DROP CONSTRAINT "consultations_user_id_users_id_fk";--> statement-breakpoint
DROP INDEX "consultations_channel";--> statement-breakpoint
DROP INDEX "consultations_room";--> statement-breakpoint
CREATE UNIQUE INDEX "consultations_channel" ON "consultations" USING btree ("channel_sid") WHERE "consultations"."channel_sid" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "consultations_room" ON "consultations" USING btree ("room_sid") WHERE "consultations"."room_sid" is not null;
