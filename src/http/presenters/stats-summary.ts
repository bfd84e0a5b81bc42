/** The zod schema of `GET /admin/v1/stats/summary`'s `data` (PROTOCOL §9), for `/openapi.json`. */
import { z } from "zod";
import type { Summary } from "../../ops/stats-summary.js";

const duration = z.object({ avg: z.number().nullable(), p50: z.number().nullable(), p90: z.number().nullable() }).meta({
  id: "DurationFigures",
  description: "Seconds; null without values. Percentiles within ±7.5 % (histogram buckets).",
});

const figures = {
  requests: z.int(),
  matched: z.int(),
  cancelled_before_match: z.int(),
  expired: z.int(),
  abandonment_rate: z.number().meta({ description: "`cancelled_before_match ÷ requests`; 0 without requests." }),
  wait_s: duration.meta({ description: "Request to match." }),
  handle_s: duration.meta({ description: "Match to end, of ended consultations." }),
  by_outcome: z.record(z.string(), z.int()).meta({ description: "Feedback outcomes (PROTOCOL §10) → count." }),
};

export const summaryJsonSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    app_id: z.int().nullable(),
    vet_id: z.int().nullable(),
    ...figures,
    by_vet: z
      .array(z.object({ vet_id: z.int(), ...figures }))
      .meta({ description: "Per vet who held consultations last; `requests` counts those." }),
    by_app: z.array(z.object({ app_id: z.int(), ...figures })),
    days: z
      .array(z.object({ day: z.string(), ...figures }))
      .meta({ description: "Every day of the range, oldest first." }),
  })
  .meta({ id: "StatsSummary" });

// A presenter drifting from the schema does not compile.
export const summaryJson = (s: Summary): z.output<typeof summaryJsonSchema> => s;
