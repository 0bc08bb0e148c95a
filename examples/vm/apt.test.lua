-- Resumes the apt fixture (slow to build the first time: Debian's mirror under
-- TCG; `provium test --include-slow` runs it): curl is installed, and the
-- resumed VM has no way out (its uplink NIC is parked, with no default route).
test("the apt fixture has curl, installed from Debian's mirror", { slow = true }, function(t)
  local vm = provium:vm_fixture("fixtures/apt")
  vm:run("which curl"):assert_ok()
  t:assert_eq(vm:run("ip route show default").stdout, "")
end)
