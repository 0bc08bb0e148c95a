-- A VM of the built-in default guest (Debian's kernel + busybox + the Provium agent),
-- booted once at the top of the file and shared by its tests.
local vm = provium:vm("web", "default", { memory = "256M" }):boot()

test("commands run through the agent", function(t)
  local r = vm:run("uname -s")
  t:assert_eq(r.stdout, "Linux\n")
  vm:run("test -d /proc/self"):assert_ok()
end)

test("files move in both directions", function(t)
  vm:write_file("/tmp/greeting", "hello from the host\n")
  t:assert_eq(vm:run("cat /tmp/greeting").stdout, "hello from the host\n")
  t:assert_eq(vm:stat("/tmp/greeting").entry_type, "file")
end)

test("a small service answers", function(t)
  vm:run("mkdir -p /srv && echo ok > /srv/health && (httpd -p 8080 -h /srv &)"):assert_ok()
  local body = wait_until(function()
    local r = vm:run("wget -qO- http://127.0.0.1:8080/health")
    return r:ok() and r.stdout
  end, { timeout = "20s", interval = "200ms", desc = "httpd answering on :8080" })
  t:assert_eq(body, "ok\n")
end)

test("a background process is read as it prints", function(t)
  local p = vm:run_async("for i in 1 2 3; do echo tick $i; sleep 0.2; done")
  local out = p:stdout_stream()
  t:assert_eq(out:expect("tick %d"), "tick 1")
  t:assert_eq(out:read_until("tick 3\n"), "\ntick 2\ntick 3\n")
  t:assert_eq(p:wait("10s").exit_code, 0)
end)
