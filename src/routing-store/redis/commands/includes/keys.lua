--[[
Every key of the routing store, built from the key prefix: ARGV[1] is always the key prefix.
The names are those of ../../keys.ts (routingKeys), whose TSDoc tables what each key holds
and who writes it; a test checks the two agree. Keys are built here rather than passed in
KEYS (numkeys 0), so the commands target a standalone Redis (or a primary with replicas),
not Redis Cluster. The stored names are kept as they are: renaming one would orphan the
live state of a running deployment.
]]
local PREFIX = ARGV[1]

local Keys = {
  queue = PREFIX .. 'q',
  appQueued = PREFIX .. 'aq',
  waiting = PREFIX .. 'w',
  seq = PREFIX .. 'seq',
  vets = PREFIX .. 'vets',
  vetSeq = PREFIX .. 'vseq',
  deadlines = PREFIX .. 'dl',
  nodes = PREFIX .. 'nodes',
  epoch = PREFIX .. 'epoch',
  rebuildLock = PREFIX .. 'rebuild',
}

function Keys.consultation(id) return PREFIX .. 'c:' .. id end
function Keys.consultationProfile(id) return PREFIX .. 'cp:' .. id end
function Keys.userOpen(appId, userId) return PREFIX .. 'uo:' .. appId .. ':' .. userId end
function Keys.vet(vetId) return PREFIX .. 'v:' .. vetId end
function Keys.vetConnections(vetId) return PREFIX .. 'vc:' .. vetId end
function Keys.userConnections(appId, userId) return PREFIX .. 'uc:' .. appId .. ':' .. userId end
function Keys.nodeVetConnections(nodeId) return PREFIX .. 'n:' .. nodeId .. ':vc' end
function Keys.nodeUserConnections(nodeId) return PREFIX .. 'n:' .. nodeId .. ':uc' end
function Keys.nodeHeartbeat(nodeId) return PREFIX .. 'node:' .. nodeId end
-- class: t transferred, e emergency, p protected, n the others (urgentClassOf() or 'n').
function Keys.queueClass(class) return PREFIX .. 'qc:' .. class end
-- species: '' for a request with none.
function Keys.waitingSpecies(species) return PREFIX .. 'ws:' .. species end
function Keys.urgent(class) return PREFIX .. 'wu:' .. class end
function Keys.urgentSpecies(class, species) return PREFIX .. 'wu:' .. class .. ':' .. species end
