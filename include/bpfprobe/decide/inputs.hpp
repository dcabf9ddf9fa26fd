// Where the decide layer gets its facts. Every fact has a key in --require syntax (probe/fact_key.hpp):
//   prog:<type>  map:<type>  helper:<prog_type>:<helper>  misc:<name>  link:<type>[:<attach_type>]
//   mechanism:<name>, answered by the prober (decide/facts.hpp), and attach:<name>, the decide layer's
// own attach probes (decide/probes.hpp), cached by the prober like every conclusive verdict. Tests may supply any
// other lookup (a fixed table of verdicts) to check the choice logic for kernels other than this one.
#pragma once

#include <bpfprobe/prober/prober.hpp>
#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace bpfprobe::decide {

using lookup = std::function<verdict(std::string_view key)>;

// A fixed table of verdicts; keys it lacks are unknown ("not given"). For tests and what-if reports.
inline lookup fixed(std::map<std::string, verdict, std::less<>> table) {
  return [table = std::move(table)](std::string_view key) {
    if (auto it = table.find(key); it != table.end()) return it->second;
    return verdict::unknown("not given");
  };
}

}  // namespace bpfprobe::decide
