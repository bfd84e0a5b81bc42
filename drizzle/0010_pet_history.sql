-- A pet's consultations, newest first (PROTOCOL §10: GET /vet/v1/pets/{pet_id}/history and the
-- history_count counted at request time). Neither column changes after the insert, so
-- transitions stay HOT updates.
CREATE INDEX "consultations_pet" ON "consultations" USING btree ("pet_id","created_at");
