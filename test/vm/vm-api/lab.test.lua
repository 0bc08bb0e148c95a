provium:claim({ memory = "512M", cpus = 2 })
provium:vm("l1", "default")
provium:vm("l2", "default", { memory = "192M" })

test("a lab boots all its VMs on one acquisition", function(t)
  t:assert_eq(provium:boot(), provium)
  t:assert_eq(provium.l1:run("hostname").stdout, "l1\n")
  t:assert_eq(provium:vm("l2"):run("hostname").stdout, "l2\n")
  t:assert_eq(#provium:members(), 2)
  provium:pause()
  t:assert_eq(provium.l1:state(), "paused")
  provium:resume()
  t:assert_eq(provium.l1:run("true").exit_code, 0)
end)

test("a boot past the file's claim fails at once with the numbers", function(t)
  -- l1 and l2 hold both CPUs of the claim, and only the file itself could give them back
  provium:vm("l4", "default", { memory = "32M" }):boot()
end)

test("reset reboots the guest and waits for its agent", function(t)
  local l1 = provium.l1
  l1:write_file("/tmp/marker", "x")
  l1:run("echo mark-1 > /dev/console")
  l1:reset()
  t:assert_eq(l1:state(), "booted")
  t:assert_eq(l1:run("test -e /tmp/marker").exit_code, 1)
  l1:run("echo mark-2 > /dev/console")
  -- console expect starts over with the new boot
  t:assert_eq(l1:console():expect("mark%-%d"), "mark-2")
end)

test("a guest that powers itself off is shut down, not dead", function(t)
  local l2 = provium.l2
  local out = l2:run_async("sleep 100"):stdout_stream()
  -- the default guest's acpid powers off on the ACPI power button
  l2:power_button()
  t:assert_contains(tostring(t:assert_raises(function() out:next("60s") end)), "powered off")
  wait_until(function() return l2:state() == "shutdown" end, { desc = "the guest powering itself off" })
  t:assert_contains(tostring(t:assert_raises(function() l2:run("true") end)), "powered itself off")
  t:assert_contains(tostring(t:assert_raises(function() l2:boot() end)), "create a new VM")
  provium:shutdown()
  t:assert_eq(provium.l1:state(), "shutdown")
end)

test("VMs boot within the file's claim, and one claim per file", function(t)
  t:assert_contains(tostring(t:assert_raises(function() provium:claim({ cpus = 1 }) end)), "one claim per file")
  local big = provium:vm("l3", "default", { memory = "1G" })
  t:assert_contains(tostring(t:assert_raises(function() big:boot() end)), "needs 1.0G memory and 1 CPU, but the file's claim is 512M memory and 2 CPUs")
end)
