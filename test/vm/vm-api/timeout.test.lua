local vm = provium:vm("t", "default"):boot()

test("a file that times out in a guest command", function(t)
  vm:run("sleep 9")
  -- Already over, by more than the main thread's grace (5 s): the file times out inside
  -- the next host call, and the worker still gets the grace to end it (kill the VM).
  provium.timeout = "1s"
  vm:run("sleep 1000")
end)
