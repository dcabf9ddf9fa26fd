// What an accepted --btf file must satisfy, shared by the corpus replay test and the fuzz target.
#pragma once

#include <algorithm>
#include <bpfprobe/bpfprobe.hpp>
#include <set>
#include <string>
#include <vector>

namespace bpfprobe::testing {

inline bool printable_line(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return c >= 0x20 && c < 0x7f; });
}

// Everything wrong with the names an accepted file gives the probes and the report; empty when
// fine: enum names are C identifiers, none twice, and every name the build knows has the build's
// value; kfunc names and prototypes and iterator names are printable and safe.
inline std::vector<std::string> problems_of_accepted(const btf::kernel_btf& k) {
  std::vector<std::string> out;
  auto enums = probe::enums_with_fallback(k);
  auto abi = btf::abi_enums();
  const std::vector<btf::entry>* tables[] = {&enums.prog_types, &enums.map_types, &enums.attach_types,
                                             &enums.link_types, &enums.helpers};
  for (std::size_t i = 0; i < abi.size(); ++i) {
    std::set<std::string> seen;
    for (const auto& e : *tables[i]) {
      std::string name = abi[i].helpers && e.name.starts_with("bpf_") ? e.name.substr(4) : e.name;
      if (!btf::is_identifier(e.name)) out.push_back("not an identifier: " + btf::escape(e.name));
      if (!seen.insert(e.name).second) out.push_back("name twice: " + e.name);
      auto it = abi[i].build.find(name);
      if (it != abi[i].build.end() && it->second != e.value)
        out.push_back(std::string(abi[i].btf_name) + " " + e.name + " = " + std::to_string(e.value) +
                      ", the build has " + std::to_string(it->second));
    }
  }
  auto kfuncs = btf::enumerate_kfuncs(k, k, "/nonexistent-module-dir");
  for (const auto& f : kfuncs.funcs) {
    if (!btf::is_identifier(f.name)) out.push_back("kfunc name: " + btf::escape(f.name));
    if (!f.prototype.empty() && !printable_line(f.prototype))
      out.push_back("kfunc prototype: " + btf::escape(f.prototype));
  }
  for (const auto& t : probe::iterator_targets(k))
    if (!btf::is_identifier(t.name)) out.push_back("iterator: " + btf::escape(t.name));
  return out;
}

}  // namespace bpfprobe::testing
