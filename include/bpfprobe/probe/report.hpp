// The data model of a full report: sections of named facts, each with its verdict and docs.
#pragma once

#include <bpfprobe/probe/system.hpp>
#include <bpfprobe/probe/verdict.hpp>
#include <string>
#include <utility>
#include <vector>

namespace bpfprobe {

struct fact {
  std::string name;
  verdict v;
  std::string first_kernel;  // documentation only
  std::string commit;        // documentation only
  std::vector<std::pair<std::string, std::string>> attrs;               // extra scalar fields
  std::vector<std::pair<std::string, std::vector<std::string>>> lists;  // extra list fields
};

using section = std::vector<fact>;

struct report {
  probe::kernel_info kernel;
  probe::kernel_config config_values;
  std::string names_source;  // where prog/map/helper names came from
  bool names_from_btf = false;
  section program_types, map_types, misc, config;
  std::vector<std::pair<std::string, section>> helpers;  // per program type
  // Further sections (kfuncs, links, dynptr, iterators, attach, ...) in the order they print.
  std::vector<std::pair<std::string, section>> more;
};

inline const fact* find_fact(const section& s, std::string_view name) {
  for (const auto& f : s)
    if (f.name == name) return &f;
  return nullptr;
}

}  // namespace bpfprobe
