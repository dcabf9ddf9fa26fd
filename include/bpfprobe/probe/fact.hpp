// One named fact with its verdict and docs, and a section (a list of them): what every probe family
// returns, what the cache stores and the report prints.
#pragma once

#include <bpfprobe/probe/verdict.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bpfprobe {

struct fact {
  std::string name;
  verdict v;
  std::string first_kernel;                                             // documentation only
  std::string commit;                                                   // documentation only
  std::vector<std::pair<std::string, std::string>> attrs;               // extra scalar fields
  std::vector<std::pair<std::string, std::vector<std::string>>> lists;  // extra list fields
};

using section = std::vector<fact>;

inline const fact* find_fact(const section& s, std::string_view name) {
  for (const auto& f : s)
    if (f.name == name) return &f;
  return nullptr;
}

}  // namespace bpfprobe
