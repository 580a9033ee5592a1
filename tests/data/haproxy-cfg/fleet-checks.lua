-- written by slipway (docs/haproxy.md "Failure paths"): hold a connection of the
-- ring until the log receiver's socket accepts one
core.register_action("slipway_wait_receiver", { "tcp-req" }, function(txn)
    while true do
        local s = core.tcp()
        s:settimeout(1)
        local ok = s:connect([==[unix@/var/lib/slipway/log.stream]==])
        s:close()
        if ok then return end
        core.msleep(250)
    end
end)
