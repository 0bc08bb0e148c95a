-- Tests that resume cached fixtures instead of booting: the tool the "base"
-- fixture installed is there, and the "pair" lab's VMs answer by name.
test("base fixture has its tool preinstalled", function(t)
  local vm = provium:vm_fixture("fixtures/base")
  vm:run("which greet"):assert_ok()
  t:assert_eq(vm:run("greet provium").stdout, "hello, provium\n")
end)

test("pair fixture brings two VMs", function(t)
  local pair = provium:lab_fixture("fixtures/pair")
  t:assert_eq(pair.a:read_file("/etc/role"), "primary\n")
  t:assert_eq(pair.b:read_file("/etc/role"), "replica\n")
end)
