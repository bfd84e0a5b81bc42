/** Request schemas of the vet console's REST calls (`/vet/v1`), shared with the OpenAPI reference. */
import { z } from "zod";
import { queryInt } from "./admin.js";

/** The standard 403 (Laravel's wording) of a pet's history the vet may not read. */
export const HISTORY_FORBIDDEN = "This action is unauthorized.";

/** Entries per page of a pet's history unless `perPage` says otherwise. */
export const PET_HISTORY_PER_PAGE = 20;

/** Query of `GET /vet/v1/pets/{pet_id}/history` (PROTOCOL §10); unknown parameters are refused. */
export const petHistoryQuerySchema = z
  .strictObject({
    page: queryInt(1).default(1).meta({ description: "1-based page; default 1." }),
    perPage: queryInt(1, 100)
      .default(PET_HISTORY_PER_PAGE)
      .meta({ description: `Entries per page, 1–100; default ${String(PET_HISTORY_PER_PAGE)}.` }),
  })
  .meta({ id: "PetHistoryQuery" });
