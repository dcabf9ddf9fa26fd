// The tri-state answer every probe gives, with the evidence that decided it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bpfprobe {

enum class status { supported, unsupported, unknown };

constexpr std::string_view to_string(status s) noexcept {
  switch (s) {
    case status::supported: return "supported";
    case status::unsupported: return "unsupported";
    case status::unknown: return "unknown";
  }
  return "unknown";
}

struct verdict {
  status state = status::unknown;
  std::string reason;    // why; always set unless plainly supported
  int err = 0;           // errno of the deciding call (0 when it succeeded)
  std::string evidence;  // the verifier/BTF log line, file or value that decided it
  // A measured value (calibration facts: a cookie read back, an offset in bytes or nanoseconds);
  // empty for facts that measure nothing.
  std::optional<std::int64_t> value;

  [[nodiscard]] bool supported() const noexcept { return state == status::supported; }
  // Only conclusive verdicts may be cached or used to rule a path out.
  [[nodiscard]] bool conclusive() const noexcept { return state != status::unknown; }

  static verdict yes(std::string reason = {}, std::string evidence = {}) {
    return {status::supported, std::move(reason), 0, std::move(evidence)};
  }
  static verdict no(std::string reason, int err = 0, std::string evidence = {}) {
    return {status::unsupported, std::move(reason), err, std::move(evidence)};
  }
  static verdict unknown(std::string reason, int err = 0, std::string evidence = {}) {
    return {status::unknown, std::move(reason), err, std::move(evidence)};
  }
};

}  // namespace bpfprobe
