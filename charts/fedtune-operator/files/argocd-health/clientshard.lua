-- Argo CD health check for fedtune.io/ClientShard, from the conditions the operator writes.
-- Degraded: Ready=False (invalid spec) or Degraded=True (its trainer failed rounds in a row).
-- Suspended: Ready=True with reason Paused. Healthy: Ready=True. Progressing: not yet seen by the operator.
local hs = {}
local function condition(t)
  if obj.status == nil or obj.status.conditions == nil then return nil end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == t then return c end
  end
  return nil
end
local ready = condition("Ready")
if ready == nil or (obj.status.observedGeneration ~= nil and obj.metadata.generation ~= nil
    and obj.status.observedGeneration < obj.metadata.generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the fedtune operator"
  return hs
end
if ready.status == "False" then
  hs.status = "Degraded"
  hs.message = ready.reason .. ": " .. (ready.message or "")
  return hs
end
local degraded = condition("Degraded")
if degraded ~= nil and degraded.status == "True" then
  hs.status = "Degraded"
  hs.message = degraded.reason .. ": " .. (degraded.message or "")
  return hs
end
if ready.reason == "Paused" then
  hs.status = "Suspended"
  hs.message = ready.message
  return hs
end
hs.status = "Healthy"
hs.message = ready.message
return hs
