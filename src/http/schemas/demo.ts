/** Request schemas of `/demo/v1`, without Express: the routes and the OpenAPI reference share them. */
import { z } from "zod";

/** Body of `POST /demo/v1/owner-token`. */
export const ownerTokenSchema = z.object({ email: z.email().max(254) });
