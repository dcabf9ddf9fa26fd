// What compat::configure decides (compat/configure.hpp, bpfprobe/configure.hpp): per accessor the tier
// chosen and why, and the options it takes. Data only, light to include.
#pragma once

#include <bpfprobe/compat/tiers.h>

#include <bpfprobe/probe/verdict.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bpfprobe::compat {

struct tier_choice {
  std::string accessor;
  std::uint32_t tier = BPFPROBE_TIER_AUTO;
  std::string tier_name;
  bool forced = false;
  // The chosen tier's verdict: supported when chosen from verdicts; for a forced tier, whatever the
  // kernel says about it (a test skips a tier that is not supported); for "unavailable", why not.
  verdict v;
  // The better tiers that were not chosen, with their verdicts (or why they were not tried).
  std::vector<std::pair<std::string, verdict>> passed_over;
};

struct selection {
  std::vector<std::string> prog_types;  // the program types every chosen tier works for
  std::vector<tier_choice> choices;     // one per accessor present in the object, in table order

  [[nodiscard]] const tier_choice* find(std::string_view accessor) const {
    for (const auto& c : choices)
      if (c.accessor == accessor) return &c;
    return nullptr;
  }
};

using force_map = std::map<std::string, std::string, std::less<>>;

struct options {
  std::vector<std::string> prog_types;  // empty: the types of the object's programs that autoload
  force_map force;                      // accessor -> tier name, "auto" or "unavailable"
};

}  // namespace bpfprobe::compat
