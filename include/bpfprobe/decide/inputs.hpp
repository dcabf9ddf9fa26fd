// Where the decide layer gets its facts. Every fact has a key in --require syntax:
//   prog:<type>  map:<type>  helper:<prog_type>:<helper>  misc:<name>  link:<name>  attach:<name>
// The first five are the prober's verdicts; attach:* are the decide layer's own attach probes
// (decide/probes.hpp), cached by the prober like every conclusive verdict. Tests may supply any
// other lookup (a fixed table of verdicts) to check the choice logic for kernels other than this one.
#pragma once

#include <bpfprobe/probe/prober.hpp>
#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace bpfprobe::decide {

using lookup = std::function<verdict(std::string_view key)>;

// Splits "helper:kprobe:bpf_ringbuf_output" into its parts.
struct fact_key {
  std::string_view kind, name, second;

  static fact_key parse(std::string_view key) {
    fact_key k;
    auto colon = key.find(':');
    if (colon == std::string_view::npos) return {key, {}, {}};
    k.kind = key.substr(0, colon);
    k.name = key.substr(colon + 1);
    if (k.kind == "helper") {
      auto second = k.name.find(':');
      if (second != std::string_view::npos) {
        k.second = k.name.substr(second + 1);
        k.name = k.name.substr(0, second);
      }
    }
    return k;
  }
};

// A fixed table of verdicts; keys it lacks are unknown ("not given"). For tests and what-if reports.
inline lookup fixed(std::map<std::string, verdict, std::less<>> table) {
  return [table = std::move(table)](std::string_view key) {
    if (auto it = table.find(key); it != table.end()) return it->second;
    return verdict::unknown("not given");
  };
}

}  // namespace bpfprobe::decide
