-- Tests that resume cached fixtures instead of booting (the seed's examples):
-- the tool the "base" fixture installed is there, and the "cluster" lab's VMs
-- reach each other by name on their bridge.
test("base fixture has its tool preinstalled", function(t)
  local vm = provium:vm_fixture("fixtures/base")
  vm:run("which greet"):assert_ok()
  t:assert_eq(vm:run("greet provium").stdout, "hello, provium\n")
end)

test("cluster fixture brings two VMs", function(t)
  local cluster = provium:lab_fixture("fixtures/cluster")
  cluster.a:run("ping -c 1 b.lan"):assert_ok()
  t:assert(cluster.a:nic("lan"):counters().tx_packets > 0, "the bridge counted a's frames")
end)
