--[[
Undoes an accept whose durable write failed (record first): the consultation, active with
vetId, is offered to that vet again with its offer deadline, or queued (vet not excluded)
when the vet holds another offer by now. Back in the queue at its seq, with its queue deadline.
ARGV  1 prefix, 2 consultationId, 3 vetId, 4 offeredAt (ms), 5 expiresAt (ms)
KEYS  consultation, vet(vetId), deadlines, queue, appQueued, queueClass(class), waiting, waitingSpecies, urgent(class), urgentSpecies(class, species)
Reply JSON "offered" | "queued" | null (not active with that vet: nothing changed)
]]
--- @include "includes/json"
--- @include "includes/consultations"
--- @include "includes/vets"
--- @include "includes/deadlines"
--- @include "includes/queue"
--- @include "includes/waiting"

local cid, vetId = ARGV[2], tonumber(ARGV[3])
local c = getConsultation(cid)
if not c or c.status ~= 'active' or c.vetId ~= vetId then return 'null' end
local v = getVet(vetId)
c.vetId = NULL
c.acceptedAt = NULL
enterQueue(c, queueScore(c))
setDeadline('queue', cid, c.queueDeadline)
if v then dropActive(v, c) end
if v and isNull(v.offerConsultationId) then
  c.status = 'offered'
  c.offer = {vetId = vetId, offeredAt = tonumber(ARGV[4]), expiresAt = tonumber(ARGV[5])}
  v.offerConsultationId = cid
  setDeadline('offer', cid, c.offer.expiresAt)
else
  c.status = 'queued'
  c.offer = NULL
  addWaiting(c)
end
if v then putVet(v) end
putConsultation(c)
return cjson.encode(c.status)
