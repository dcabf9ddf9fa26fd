// A consumer of the installed package: asks one fact and prints it, through the public prober header
// (the same handle in both modes; header-only, bpfprobe_impl.cpp beside it compiles the prober). Any of the
// three verdicts is a working build (permissions differ between machines); a crash or a missing symbol
// is not.
#include <bpfprobe/prober.hpp>
#include <iostream>

int main() {
  bpfprobe::prober p;
  auto v = p.prog_type("socket_filter");
  std::cout << "prog:socket_filter: " << bpfprobe::to_string(v.state) << '\n';
  return 0;
}
