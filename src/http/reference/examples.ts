/** Realistic example values of `/openapi.json` (one per request and answer). */

export const jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJl";
export const channel = "CH39c9f83c02a865ee607d8ff44e8a693e";
export const room = "RM5f0e6c1d2b3a49587766554433221100";
const at = "2026-12-01 14:05:00";

export const pet = {
  id: 12,
  user_id: 7,
  app_id: 1,
  pet_id: null,
  name: "Rex",
  species: "dog",
  age: "2 years",
  breed: "beagle",
  color: "brown",
  weight: "20 lbs",
  sex: "male",
  sex_type: "neutered",
  profile: null,
  created_at: at,
  updated_at: at,
  deleted_at: null,
  veterians: null,
  medicals: null,
  insurnaces: null,
  pet_veterians: [],
  pet_medicals: [],
  pet_insurnaces: [],
};

export const emergencyStats = {
  user_type: "users",
  trial_period_count: 14,
  trial_period_start_date: at,
  trial_period_end_date: "2026-12-15 14:05:00",
  remaining_trial_period_days: 14,
  last_emergency_activation_date: null,
  next_emergency_activation_date: null,
  emergency_fund: 0,
  can_activate_Emergency: false,
};

export const socketToken = { token: jwt, expires_at: "2026-12-01T15:05:00.000Z" };

export const registerBody = {
  first_name: "Sam",
  last_name: "Lee",
  email: "sam@example.com",
  role: "users",
  dev_type: "ios",
  pet: { name: "Rex", species: "dog" },
  region: "US-CA",
};
export const registerData = {
  user: {
    app_id: 1,
    email: "sam@example.com",
    dev_type: "ios",
    last_name: "Lee",
    first_name: "Sam",
    phone_no: null,
    your_registration_date: at,
    emergency_fund: 0,
    updated_at: at,
    created_at: at,
    id: 7,
    role: "users",
    status: "subscribed",
    trial_period: 14,
    can_use_emergency_funds: false,
    app: ["petcube"],
    activedays: 0,
    pets: pet,
    user_status: [
      {
        id: 9,
        user_id: 7,
        app_id: 1,
        status: "subscribed",
        type: "monthly",
        created_at: at,
        updated_at: at,
        date_time: at,
      },
    ],
    region: "US-CA",
  },
  twilioToken: jwt,
  emergency_stats: emergencyStats,
  socket_token: socketToken,
};

export const updateUserBody = { email: "sam@example.com", phone_no: "+1 415 555 0100", region: "US-NY" };
export const updatedUser = { ...registerData.user, phone_no: "+1 415 555 0100", region: "US-NY", pets: null };

export const actionsBody = {
  email: "sam@example.com",
  role: "protect_users",
  status: "subscribed",
  emergency_fund: 500,
};

export const deletedUser = {
  id: 7,
  app_id: 1,
  email: "sam@example.com",
  dev_type: "ios",
  twilio_user_sid: null,
  last_name: "Lee",
  first_name: "Sam",
  phone_no: null,
  emergency_fund: 0,
  your_registration_date: at,
  created_at: at,
  updated_at: at,
  deleted_at: at,
  region: "US-CA",
  next_emergency_activation_date: null,
  app: ["petcube"],
  activedays: 0,
  user_status_latest: {
    id: 9,
    user_id: 7,
    app_id: 1,
    status: "subscribed",
    type: "monthly",
    created_at: at,
    updated_at: at,
    date_time: at,
  },
};

export const reportRow = {
  first_name: "Sam",
  last_name: "Lee",
  email: "sam@example.com",
  phone_no: null,
  your_registration_date: at,
  emergency_fund: 0,
  next_emergency_activation_date: null,
  activedays: 3,
  protect_type: "users",
  package_type: "monthly",
  subscription_status: "subscribed",
};

export const vetCard = { id: "app-1_vet-7", username: "Ana Kim", profile_image: null };

export const talkToVet = {
  consultation_id: "6f1c2a9e-3b8d-4c55-9a41-0d7e2b6f8c10",
  channel,
  vet: vetCard,
  identity: "local-app-1_user-7",
  stringify_response: JSON.stringify({
    twilioToken: jwt,
    user: { id: 7, email: "sam@example.com" },
    emergency_stats: emergencyStats,
  }),
};

export const feedback = {
  type: "chat",
  vet_first_name: "Ana",
  vet_last_name: "Kim",
  recommendation: "Rest two days",
  reason: "Mild cough",
  outcome: "follow_up",
  feedback_date: "2026-12-01T14:30:00.000Z",
};

export const vet = {
  id: 7,
  email: "dr.kim@example.com",
  first_name: "Ana",
  last_name: "Kim",
  profile_image: null,
  identity: "app-1_vet-7",
  species: ["dog", "cat"],
  languages: ["en", "es"],
  max_chats: 2,
  licenses: ["US-CA", "GB"],
};

export const stats = {
  queue_length: 3,
  waiting_advice: 1,
  vets: { available: 2, offered: 1, busy: 4, wrapup: 0, away: 1, offline: 0 },
  open_consultations: 7,
};

const iso = "2026-12-01T14:05:00.000Z";

export const consultation = {
  id: "6f1c2a9e-3b8d-4c55-9a41-0d7e2b6f8c10",
  app_id: 1,
  user_id: 7,
  pet_id: 12,
  type: "chat",
  source: "socket",
  status: "ended",
  requested_vet_id: null,
  vet_id: 7,
  channel_sid: channel,
  room_sid: null,
  ended_by: "vet",
  end_reason: null,
  language: "es",
  emergency: false,
  species: "dog",
  priority: "protected",
  region: "US-CA",
  care: "treatment",
  advice_fallback: true,
  created_at: iso,
  accepted_at: "2026-12-01T14:05:20.000Z",
  ended_at: "2026-12-01T14:25:00.000Z",
  outcome: "follow_up",
};

export const consultationAudit = {
  ...consultation,
  events: [
    { from_status: null, to_status: "queued", at: iso, detail: null },
    { from_status: "queued", to_status: "offered", at: "2026-12-01T14:05:01.000Z", detail: { vet_id: 7 } },
    { from_status: "offered", to_status: "active", at: "2026-12-01T14:05:20.000Z", detail: null },
    { from_status: "active", to_status: "ended", at: "2026-12-01T14:25:00.000Z", detail: null },
  ],
  offers: [
    {
      vet_id: 7,
      offered_at: "2026-12-01T14:05:01.000Z",
      expires_at: "2026-12-01T14:05:31.000Z",
      outcome: "accepted",
      resolved_at: "2026-12-01T14:05:20.000Z",
    },
  ],
  feedback: {
    vet_id: 7,
    recommendation: "Rest two days",
    reason: "Mild cough",
    outcome: "follow_up",
    created_at: "2026-12-01T14:26:00.000Z",
    updated_at: "2026-12-01T14:26:00.000Z",
  },
};

export const statsHistory = {
  step_s: 10,
  window_s: 3600,
  samples: [
    {
      t: "2026-12-01T14:05:00.000Z",
      queue_length: 2,
      vets: { available: 1, away: 0, busy: 3, offline: 0 },
      open_consultations: 5,
      matches: 1,
      match_latency_ms: { p50: 4, p95: 4, max: 4 },
    },
    {
      t: "2026-12-01T14:05:10.000Z",
      queue_length: 1,
      vets: { available: 0, away: 0, busy: 4, offline: 0 },
      open_consultations: 5,
      matches: 0,
      match_latency_ms: null,
    },
  ],
};

export const demoOwner = {
  email: "alice@demo.test",
  first_name: "Alice",
  last_name: "Martin",
  role: "users",
  pets: [
    {
      id: 1,
      name: "Biscuit",
      species: "dog",
      breed: "beagle",
      age: "3 years",
      weight: "22 lbs",
      sex: "male",
      color: "tan",
      profile: null,
    },
  ],
};

export const appWithWebhook = {
  id: 1,
  name: "petcube",
  media_url: null,
  webhook_url: "https://partner.example.com/hooks/vets",
};

export const endpointHealth = {
  last_success_at: "2026-12-01T14:20:31.000Z",
  failures_in_a_row: 0,
  oldest_pending_at: null,
  pending: 0,
  failed: 0,
};

export const webhookLog = {
  app: appWithWebhook,
  health: endpointHealth,
  deliveries: [
    {
      id: 42,
      consultation_id: consultation.id,
      type: "consultation.ended",
      status: "delivered",
      attempts: 1,
      last_status: 200,
      last_error: null,
      occurred_at: "2026-12-01T14:20:30.000Z",
      last_attempt_at: "2026-12-01T14:20:30.120Z",
      next_attempt_at: null,
      delivered_at: "2026-12-01T14:20:30.141Z",
    },
  ],
};

/** A `consultation.ended` webhook body (PROTOCOL §9). */
export const webhookBody = {
  type: "consultation.ended",
  timestamp: "2026-12-01T14:20:30.000Z",
  data: {
    consultation: {
      id: consultation.id,
      status: "ended",
      type: "chat",
      care: "treatment",
      region: "US-CA",
      user: { id: 12, email: "sam@example.com" },
      pet_id: 3,
      vet: { id: 7, email: "dr.kim@example.com" },
      vets: [{ vet_id: 7, joined_at: "2026-12-01T14:05:10.000Z", left_at: "2026-12-01T14:20:30.000Z" }],
      channel_sid: channel,
      room_sid: null,
      created_at: "2026-12-01T14:05:00.000Z",
      accepted_at: "2026-12-01T14:05:10.000Z",
      ended_at: "2026-12-01T14:20:30.000Z",
      ended_by: "vet",
      end_reason: null,
    },
  },
};

const figures = {
  requests: 120,
  matched: 104,
  cancelled_before_match: 11,
  expired: 5,
  abandonment_rate: 0.0917,
  wait_s: { avg: 41.2, p50: 23.5, p90: 96.1 },
  handle_s: { avg: 612.4, p50: 540.2, p90: 1104.7 },
  by_outcome: { resolved: 71, follow_up: 18, clinic_visit: 9 },
};

export const statsSummary = {
  from: "2026-11-24",
  to: "2026-11-30",
  app_id: null,
  vet_id: null,
  ...figures,
  by_vet: [{ vet_id: 7, ...figures }],
  by_app: [{ app_id: 1, ...figures }],
  days: [{ day: "2026-11-24", ...figures }],
};

/** `GET /vet/v1/pets/{pet_id}/history` (PROTOCOL §10). */
export const petHistory = {
  list: [
    {
      consultation_id: "6f1c2a9e-3b8d-4c55-9a41-0d7e2b6f8c10",
      date: "2026-12-01T14:05:20.000Z",
      ended_at: "2026-12-01T14:25:00.000Z",
      channel: "chat",
      type: "chat",
      vet_id: 7,
      vet_name: "Ana Kim",
      duration_s: 1180,
      outcome: "follow_up",
      recommendation: "Rest two days",
      reason: "Mild cough",
    },
  ],
  pagination: { total: 1, page: 1, perPage: 20, last_page: 1 },
};
