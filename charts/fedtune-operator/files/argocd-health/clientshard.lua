-- Argo CD health check for fedtune.io/ClientShard, from the conditions the operator writes.
-- Degraded: Ready=False (invalid spec) or Degraded=True (its trainer failed rounds in a row).
-- Suspended: Ready=True with reason Paused. Healthy: Ready=True. Progressing: not yet seen by the operator.
local function condition(t)
  if obj.status == nil or obj.status.conditions == nil then return nil end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == t then return c end
  end
  return nil
end
local function health(status, message)
  return {status = status, message = message}
end

local ready = condition("Ready")
if ready == nil or (obj.status.observedGeneration ~= nil and obj.metadata.generation ~= nil
    and obj.status.observedGeneration < obj.metadata.generation) then
  return health("Progressing", "Waiting for the fedtune operator")
end
if ready.status == "False" then
  return health("Degraded", ready.reason .. ": " .. (ready.message or ""))
end
local degraded = condition("Degraded")
if degraded ~= nil and degraded.status == "True" then
  return health("Degraded", degraded.reason .. ": " .. (degraded.message or ""))
end
if ready.reason == "Paused" then
  return health("Suspended", ready.message)
end
return health("Healthy", ready.message)
