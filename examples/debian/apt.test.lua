-- Resumes the apt fixture: curl is installed, and the resumed VM has no way
-- out (its uplink NIC is parked: no default route).
test("the apt fixture has curl, installed from Debian's mirror", function(t)
  local vm = provium:vm_fixture("fixtures/apt")
  vm:run("which curl"):assert_ok()
  t:assert_eq(vm:run("ip route show default").stdout, "")
end)
