// A consumer of the installed package: asks one fact and prints it. Any of the three verdicts is a
// working build (permissions differ between machines); a crash or a missing symbol is not.
#include <bpfprobe/bpfprobe.hpp>
#include <iostream>

int main() {
  bpfprobe::prober p;
  auto v = p.prog_type("socket_filter");
  std::cout << "prog:socket_filter: " << bpfprobe::to_string(v.state) << '\n';
  return 0;
}
