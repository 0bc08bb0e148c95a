-- A helper module: any *.lua under a root that is not a test or fixture is loaded with require.
local M = {}

function M.words(s)
  local out = {}
  for w in s:gmatch("%S+") do out[#out + 1] = w end
  return out
end

function M.title(s)
  return (s:gsub("(%a)([%w_']*)", function(first, rest) return first:upper() .. rest:lower() end))
end

return M
