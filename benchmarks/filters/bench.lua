-- The benchmark's Lua filter (Envoy's envoy.filters.http.lua, inline): read one request
-- header, add one response header, the same work as the Wasm variants.

function envoy_on_request(request_handle)
  local saw_path = request_handle:headers():get(":path") ~= nil
  request_handle:streamInfo():dynamicMetadata():set("bench", "saw_path", saw_path)
end

function envoy_on_response(response_handle)
  local state = response_handle:streamInfo():dynamicMetadata():get("bench")
  local saw_path = state ~= nil and state["saw_path"]
  response_handle:headers():replace("x-bench", saw_path and "path" or "empty")
end
