-- Argo CD health check for fedtune.io/FederatedRun, from the conditions the operator writes.
-- Healthy: Succeeded=True. Suspended: Suspended=True. Degraded: Failed=True or Ready=False (invalid spec,
-- immutable field changed). Progressing: rounds under way, or the operator has not seen this generation yet.
local hs = {}
local function condition(t)
  if obj.status == nil or obj.status.conditions == nil then return nil end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == t then return c end
  end
  return nil
end
local function say(c)
  if c.message ~= nil and c.message ~= "" then return c.reason .. ": " .. c.message end
  return c.reason
end

if obj.status == nil or obj.status.conditions == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the fedtune operator"
  return hs
end
if obj.status.observedGeneration ~= nil and obj.metadata.generation ~= nil
    and obj.status.observedGeneration < obj.metadata.generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. obj.metadata.generation
  return hs
end
local failed = condition("Failed")
if failed ~= nil and failed.status == "True" then
  hs.status = "Degraded"
  hs.message = say(failed)
  return hs
end
local ready = condition("Ready")
if ready ~= nil and ready.status == "False" then
  hs.status = "Degraded"
  hs.message = say(ready)
  return hs
end
local suspended = condition("Suspended")
if suspended ~= nil and suspended.status == "True" then
  hs.status = "Suspended"
  hs.message = say(suspended)
  return hs
end
local succeeded = condition("Succeeded")
if succeeded ~= nil and succeeded.status == "True" then
  hs.status = "Healthy"
  hs.message = say(succeeded)
  return hs
end
local progressing = condition("Progressing")
hs.status = "Progressing"
if progressing ~= nil then
  hs.message = say(progressing)
  local degraded = condition("Degraded")
  if degraded ~= nil and degraded.status == "True" then
    hs.message = hs.message .. " (degraded: " .. say(degraded) .. ")"
  end
else
  hs.message = "Waiting for the fedtune operator"
end
return hs
