-- Argo CD health check for fedtune.io/FederatedRun, from the conditions the operator writes.
-- Healthy: Succeeded=True. Suspended: Suspended=True. Degraded: Failed=True or Ready=False (invalid spec,
-- immutable field changed), or StorageUnavailable=True (the run's object storage is out; the round waits for it).
-- Progressing: the base model being prepared, rounds under way, the result being published, or the operator has
-- not seen this generation yet. Progressing and Healthy name the best adapter's primary metric.
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
-- "; best RougeL 0.4123 (round 3)": the best adapter's primary metric, while Progressing and when Healthy
local function best()
  local b = obj.status.bestAdapter
  if b == nil or b.evalScore == nil or b.evalMetric == nil then return "" end
  local round = ""
  if b.round ~= nil then round = " (round " .. tostring(math.floor(b.round)) .. ")" end
  -- rounded to 4 decimals by hand: Lua implementations differ in string.format's precision
  local score = math.floor(b.evalScore * 10000 + 0.5) / 10000
  return "; best " .. b.evalMetric .. " " .. tostring(score) .. round
end
local function health(status, message)
  return {status = status, message = message}
end

if obj.status == nil or obj.status.conditions == nil then
  return health("Progressing", "Waiting for the fedtune operator")
end
if obj.status.observedGeneration ~= nil and obj.metadata.generation ~= nil
    and obj.status.observedGeneration < obj.metadata.generation then
  return health("Progressing", "Waiting for the operator to observe generation " .. obj.metadata.generation)
end
local failed = condition("Failed")
if failed ~= nil and failed.status == "True" then
  return health("Degraded", say(failed))
end
local ready = condition("Ready")
if ready ~= nil and ready.status == "False" then
  return health("Degraded", say(ready))
end
local storage = condition("StorageUnavailable")
if storage ~= nil and storage.status == "True" then
  return health("Degraded", say(storage))
end
local suspended = condition("Suspended")
if suspended ~= nil and suspended.status == "True" then
  return health("Suspended", say(suspended))
end
local succeeded = condition("Succeeded")
if succeeded ~= nil and succeeded.status == "True" then
  return health("Healthy", say(succeeded) .. best())
end
local progressing = condition("Progressing")
if progressing == nil then
  return health("Progressing", "Waiting for the fedtune operator")
end
local message = say(progressing)
local degraded = condition("Degraded")
if degraded ~= nil and degraded.status == "True" then
  message = message .. " (degraded: " .. say(degraded) .. ")"
end
return health("Progressing", message .. best())
