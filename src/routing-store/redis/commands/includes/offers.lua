--[[
Handing an offer back to the queue.
]]
--- @include "json"
--- @include "lists"
--- @include "consultations"
--- @include "waiting"
--- @include "deadlines"

-- Returns the offer of consultation id held by vetId to the queue, vet excluded. Mutates
-- the vet table v (when given) but does not save it: the caller does. Returns the
-- consultation reply with the released offer as "o" ({d, p, o}), or nil when vetId does not
-- hold that offer.
local function releaseOffer(id, vetId, v, setAway)
  local c, _, profile = getConsultation(id)
  if not c or c.status ~= 'offered' or isNull(c.offer) or c.offer.vetId ~= vetId then return nil end
  local offer = cjson.encode(c.offer)
  c.status = 'queued'
  c.offer = NULL
  addWaiting(c)
  if not contains(c.excludedVetIds, vetId) then table.insert(c.excludedVetIds, vetId) end
  removeDeadlines(id, {'offer'})
  if v then
    v.offerConsultationId = NULL
    if setAway then v.status = 'away' end
  end
  return '{"d":' .. putConsultation(c) .. ',"p":' .. profile .. ',"o":' .. offer .. '}'
end
