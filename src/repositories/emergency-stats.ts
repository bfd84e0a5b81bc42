/**
 * Values derived from a pet owner's subscription: the trial period, emergency-fund
 * eligibility and the `emergency_stats` object of the v2 API (PROTOCOL §2). Everything
 * here is computed from the stored user at a given instant and never stored; `now` is
 * always a parameter so callers decide the clock. It sits beside `users.ts`, which applies
 * {@link planUserAction}; `http/presenters/users.ts` renders the rest.
 */
import { formatDateTime } from "../lib/time.js";

/** Length of the trial that starts at registration. */
export const TRIAL_PERIOD_DAYS = 14;
/** An emergency may be activated again this many days after the last activation. */
export const EMERGENCY_COOLDOWN_DAYS = 365;

const DAY_MS = 86_400_000;

/** The user roles of the v2 API. */
export type UserRole = "users" | "protect_users";
/** The subscription statuses of the v2 API. */
export type SubscriptionStatus = "subscribed" | "cancelled";

/** The stored facts the derived values depend on (a subset of a user row). */
export interface EmergencySubject {
  role: string;
  status: string;
  emergencyFund: number;
  registeredAt: Date;
  lastEmergencyActivationDate: Date | null;
}

/** The reference's `emergency_stats` object; key names (`can_activate_Emergency`) are fixed. */
export interface EmergencyStatsJson {
  user_type: string;
  trial_period_count: number;
  trial_period_start_date: string | null;
  trial_period_end_date: string | null;
  remaining_trial_period_days: number;
  last_emergency_activation_date: string | null;
  next_emergency_activation_date: string | null;
  emergency_fund: number;
  can_activate_Emergency: boolean;
}

/** The per-user fields the reference puts on user objects. */
export interface UserDerivedFields {
  trial_period: number;
  can_use_emergency_funds: boolean;
  activedays: number;
  next_emergency_activation_date: string | null;
}

/** Whole days from `from` to `to`, rounded down (Carbon's `diffInDays`); never negative. */
function wholeDaysBetween(from: Date, to: Date): number {
  return Math.max(0, Math.floor((to.getTime() - from.getTime()) / DAY_MS));
}

/** When the trial that started at `registeredAt` ends: exactly 14 days later. */
export function trialEndDate(registeredAt: Date): Date {
  return new Date(registeredAt.getTime() + TRIAL_PERIOD_DAYS * DAY_MS);
}

/** True once `now` has reached the end of the trial. */
export function trialEnded(registeredAt: Date, now: Date): boolean {
  return now.getTime() >= trialEndDate(registeredAt).getTime();
}

/** Whole trial days left at `now` (rounded down, as the reference's 13 right after registration); 0 after the trial. */
export function remainingTrialDays(registeredAt: Date, now: Date): number {
  return wholeDaysBetween(now, trialEndDate(registeredAt));
}

/** Whole days since registration (`activedays`). */
export function activeDays(registeredAt: Date, now: Date): number {
  return wholeDaysBetween(registeredAt, now);
}

/** The last activation plus 365 days, or null when there never was one. */
export function nextEmergencyActivationDate(lastActivation: Date | null): Date | null {
  return lastActivation ? new Date(lastActivation.getTime() + EMERGENCY_COOLDOWN_DAYS * DAY_MS) : null;
}

/**
 * A subscribed `protect_users` user whose trial has ended may draw on the emergency fund
 * (`can_use_emergency_funds`). The yearly activation limit is not part of this.
 */
export function canUseEmergencyFunds(u: EmergencySubject, now: Date): boolean {
  return u.role === "protect_users" && u.status === "subscribed" && trialEnded(u.registeredAt, now);
}

/**
 * `can_activate_Emergency`: {@link canUseEmergencyFunds} and the next activation date is
 * null or not in the future.
 */
export function canActivateEmergency(u: EmergencySubject, now: Date): boolean {
  if (!canUseEmergencyFunds(u, now)) return false;
  const next = nextEmergencyActivationDate(u.lastEmergencyActivationDate);
  return next === null || next.getTime() <= now.getTime();
}

/** The reference's `emergency_stats` for `u` at `now`. */
export function emergencyStats(u: EmergencySubject, now: Date): EmergencyStatsJson {
  return {
    user_type: u.role,
    trial_period_count: TRIAL_PERIOD_DAYS,
    trial_period_start_date: formatDateTime(u.registeredAt),
    trial_period_end_date: formatDateTime(trialEndDate(u.registeredAt)),
    remaining_trial_period_days: remainingTrialDays(u.registeredAt, now),
    last_emergency_activation_date: formatDateTime(u.lastEmergencyActivationDate),
    next_emergency_activation_date: formatDateTime(nextEmergencyActivationDate(u.lastEmergencyActivationDate)),
    emergency_fund: u.emergencyFund,
    can_activate_Emergency: canActivateEmergency(u, now),
  };
}

/** `trial_period`, `can_use_emergency_funds`, `activedays`, `next_emergency_activation_date` of a user object. */
export function userDerivedFields(u: EmergencySubject, now: Date): UserDerivedFields {
  return {
    trial_period: TRIAL_PERIOD_DAYS,
    can_use_emergency_funds: canUseEmergencyFunds(u, now),
    activedays: activeDays(u.registeredAt, now),
    next_emergency_activation_date: formatDateTime(nextEmergencyActivationDate(u.lastEmergencyActivationDate)),
  };
}

/** What `POST actions` asks to change. Absent fields keep their value. */
export interface UserActionRequest {
  role?: UserRole | undefined;
  status?: SubscriptionStatus | undefined;
  emergencyFund?: number | undefined;
}

/** The outcome of {@link planUserAction}: the new values, or the 422 messages. */
export type UserActionPlan =
  | {
      ok: true;
      role: UserRole;
      status: SubscriptionStatus;
      emergencyFund: number;
      /** True when the status changes, i.e. a `user_status` row must be appended. */
      statusChanged: boolean;
    }
  | { ok: false; messages: string[] };

/**
 * Applies the role rules of `POST actions` to the current user:
 * - a `protect_users` user becomes `users` only if cancelled, by this call or an earlier one
 *   (a cancelled protected user may become `users` and re-subscribe in one call);
 * - becoming `protect_users` from `users` needs an `emergency_fund` (as registration does);
 * - becoming `users` without an `emergency_fund` resets the fund to 0 (only protected users have one).
 */
export function planUserAction(
  current: { role: string; status: string; emergencyFund: number },
  req: UserActionRequest,
): UserActionPlan {
  const currentRole: UserRole = current.role === "protect_users" ? "protect_users" : "users";
  const currentStatus: SubscriptionStatus = current.status === "cancelled" ? "cancelled" : "subscribed";
  const role = req.role ?? currentRole;
  const status = req.status ?? currentStatus;
  const messages: string[] = [];
  // "Cancelled by an earlier call" is the current status; "by this call" is the requested one.
  const cancelled = currentStatus === "cancelled" || req.status === "cancelled";
  if (currentRole === "protect_users" && role === "users" && !cancelled) {
    messages.push("The role cannot change from protect_users to users unless the user is cancelled.");
  }
  if (currentRole === "users" && role === "protect_users" && req.emergencyFund === undefined) {
    messages.push("The emergency fund field is required when role is protect_users.");
  }
  if (messages.length > 0) return { ok: false, messages };
  let emergencyFund = req.emergencyFund ?? current.emergencyFund;
  if (role === "users" && currentRole === "protect_users" && req.emergencyFund === undefined) emergencyFund = 0;
  return { ok: true, role, status, emergencyFund, statusChanged: status !== currentStatus };
}
