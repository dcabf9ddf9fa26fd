// README.md's compat guide application: configure the tiers from the prober's verdicts, then load.
// Attaching is left out (the guide attaches; here any exec on the machine would fire it). Built with
// the compiled library through its public headers (bpfprobe/prober.hpp, bpfprobe/configure.hpp).
#include <bpfprobe/configure.hpp>
#include <bpfprobe/prober.hpp>
#include <iostream>

#include "app_bpf.skel.h"

int main() {
  auto* skel = app_bpf::open();
  if (!skel) return 1;
  bpfprobe::prober p;
  auto sel = bpfprobe::compat::configure(p, skel);
  if (!sel) {
    std::cerr << sel.error().describe() << '\n';
    app_bpf::destroy(skel);
    return 1;
  }
  std::cout << bpfprobe::compat::to_string(sel.value());
  int rc = app_bpf::load(skel);
  app_bpf::destroy(skel);
  std::cout << "load: " << rc << '\n';
  return rc == 0 ? 0 : 1;
}
