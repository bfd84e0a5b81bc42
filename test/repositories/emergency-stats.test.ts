import { describe, expect, it } from "vitest";
import {
  activeDays,
  canActivateEmergency,
  canUseEmergencyFunds,
  emergencyStats,
  nextEmergencyActivationDate,
  planUserAction,
  remainingTrialDays,
  trialEndDate,
  userDerivedFields,
  type EmergencySubject,
} from "../../src/repositories/emergency-stats.js";

const DAY = 86_400_000;
const reg = new Date("2023-07-26T09:15:02Z");
const at = (days: number, extraMs = 0) => new Date(reg.getTime() + days * DAY + extraMs);
const protectedUser = (over: Partial<EmergencySubject> = {}): EmergencySubject => ({
  role: "protect_users",
  status: "subscribed",
  emergencyFund: 3000,
  registeredAt: reg,
  lastEmergencyActivationDate: null,
  ...over,
});

describe("trial period", () => {
  it("lasts 14 days from registration", () => {
    expect(trialEndDate(reg).toISOString()).toBe("2023-08-09T09:15:02.000Z");
  });

  it("counts whole remaining days, rounded down, never negative", () => {
    expect(remainingTrialDays(reg, reg)).toBe(14);
    // A moment after registration (the reference's register response) → 13.
    expect(remainingTrialDays(reg, at(0, 1000))).toBe(13);
    expect(remainingTrialDays(reg, at(13, 1))).toBe(0);
    expect(remainingTrialDays(reg, at(14))).toBe(0);
    expect(remainingTrialDays(reg, at(400))).toBe(0);
  });

  it("activedays counts whole days since registration", () => {
    expect(activeDays(reg, reg)).toBe(0);
    expect(activeDays(reg, at(1, -1))).toBe(0);
    expect(activeDays(reg, at(114, 5))).toBe(114);
    // A clock behind the registration never yields negative days.
    expect(activeDays(reg, at(-1))).toBe(0);
  });
});

describe("emergency eligibility", () => {
  it("a protected, subscribed user may activate once the trial has ended", () => {
    expect(canActivateEmergency(protectedUser(), at(14, -1))).toBe(false);
    expect(canActivateEmergency(protectedUser(), at(14))).toBe(true);
    expect(canUseEmergencyFunds(protectedUser(), at(14))).toBe(true);
  });

  it("never for plain users or cancelled users", () => {
    expect(canActivateEmergency(protectedUser({ role: "users" }), at(100))).toBe(false);
    expect(canActivateEmergency(protectedUser({ status: "cancelled" }), at(100))).toBe(false);
    expect(canUseEmergencyFunds(protectedUser({ role: "users" }), at(100))).toBe(false);
  });

  it("once a year: next activation is the last one plus 365 days", () => {
    const last = at(20);
    expect(nextEmergencyActivationDate(last)?.toISOString()).toBe(new Date(last.getTime() + 365 * DAY).toISOString());
    expect(nextEmergencyActivationDate(null)).toBeNull();
    const u = protectedUser({ lastEmergencyActivationDate: last });
    expect(canActivateEmergency(u, at(20 + 364))).toBe(false);
    // Funds stay usable; only a new activation waits.
    expect(canUseEmergencyFunds(u, at(20 + 364))).toBe(true);
    expect(canActivateEmergency(u, at(20 + 365))).toBe(true);
  });
});

describe("emergencyStats", () => {
  it("has the reference's keys and values right after registration", () => {
    expect(emergencyStats(protectedUser(), at(0, 3000))).toEqual({
      user_type: "protect_users",
      trial_period_count: 14,
      trial_period_start_date: "2023-07-26 09:15:02",
      trial_period_end_date: "2023-08-09 09:15:02",
      remaining_trial_period_days: 13,
      last_emergency_activation_date: null,
      next_emergency_activation_date: null,
      emergency_fund: 3000,
      can_activate_Emergency: false,
    });
  });

  it("formats activation dates", () => {
    const s = emergencyStats(protectedUser({ lastEmergencyActivationDate: new Date("2024-01-02T03:04:05Z") }), at(200));
    expect(s.last_emergency_activation_date).toBe("2024-01-02 03:04:05");
    expect(s.next_emergency_activation_date).toBe("2025-01-01 03:04:05");
    expect(s.can_activate_Emergency).toBe(false);
  });

  it("userDerivedFields matches the user object fields", () => {
    expect(userDerivedFields(protectedUser(), at(30))).toEqual({
      trial_period: 14,
      can_use_emergency_funds: true,
      activedays: 30,
      next_emergency_activation_date: null,
    });
  });
});

describe("planUserAction", () => {
  const prot = { role: "protect_users", status: "subscribed", emergencyFund: 3000 };

  it("refuses protect_users → users while subscribed", () => {
    const p = planUserAction(prot, { role: "users" });
    expect(p.ok).toBe(false);
    expect(p.ok ? [] : p.messages).toEqual([
      "The role cannot change from protect_users to users unless the user is cancelled.",
    ]);
    expect(planUserAction(prot, { role: "users", status: "subscribed" }).ok).toBe(false);
  });

  it("allows it when the same call cancels", () => {
    expect(planUserAction(prot, { role: "users", status: "cancelled" })).toEqual({
      ok: true,
      role: "users",
      status: "cancelled",
      emergencyFund: 0,
      statusChanged: true,
    });
  });

  it("allows it when an earlier call cancelled, also re-subscribing in the same call", () => {
    const cancelled = { ...prot, status: "cancelled" };
    expect(planUserAction(cancelled, { role: "users" })).toMatchObject({
      ok: true,
      role: "users",
      status: "cancelled",
      statusChanged: false,
    });
    expect(planUserAction(cancelled, { role: "users", status: "subscribed" })).toMatchObject({
      ok: true,
      status: "subscribed",
      statusChanged: true,
    });
  });

  it("upgrading to protect_users needs an emergency fund", () => {
    const plain = { role: "users", status: "subscribed", emergencyFund: 0 };
    expect(planUserAction(plain, { role: "protect_users" }).ok).toBe(false);
    expect(planUserAction(plain, { role: "protect_users", emergencyFund: 500 })).toMatchObject({
      ok: true,
      role: "protect_users",
      emergencyFund: 500,
      statusChanged: false,
    });
  });

  it("keeps unspecified values and flags status changes only", () => {
    expect(planUserAction(prot, {})).toEqual({
      ok: true,
      role: "protect_users",
      status: "subscribed",
      emergencyFund: 3000,
      statusChanged: false,
    });
    expect(planUserAction(prot, { status: "cancelled" })).toMatchObject({
      status: "cancelled",
      statusChanged: true,
      emergencyFund: 3000,
    });
    expect(planUserAction(prot, { emergencyFund: 10 })).toMatchObject({ emergencyFund: 10 });
  });
});
