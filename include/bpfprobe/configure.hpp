// compat::configure, the way applications include it: before a libbpf object (or skeleton) is loaded,
// write each compat accessor's tier flag from probe verdicts (bpf/bpfprobe/compat.bpf.h).
//
//   #include <bpfprobe/configure.hpp>
//   bpfprobe::prober p;
//   auto sel = bpfprobe::compat::configure(p, skel);   // or configure(p, skel->obj, options)
//   if (!sel) std::cerr << sel.error().describe() << '\n';
//   std::cout << bpfprobe::compat::to_string(sel.value());
//
// This header declares only, in both modes (bpfprobe/prober.hpp says where the definitions come from).
// The lower layer compat/configure.hpp is the same call on the full prober of bpfprobe/prober/prober.hpp.
#pragma once

#include <bpfprobe/compat/selection.hpp>
#include <bpfprobe/config.hpp>
#include <bpfprobe/prober.hpp>
#include <optional>
#include <stdexcept>

struct bpf_object;

namespace bpfprobe::compat {
inline namespace lib {

struct configure_error {
  std::string message;
  [[nodiscard]] const std::string& describe() const noexcept { return message; }
};

// The selection, or why none could be made (an object without the compat variables is not an error).
class configure_result {
 public:
  configure_result(selection s) : sel_(std::move(s)) {}
  configure_result(configure_error e) : err_(std::move(e)) {}
  explicit operator bool() const noexcept { return sel_.has_value(); }
  [[nodiscard]] bool has_value() const noexcept { return sel_.has_value(); }
  [[nodiscard]] const selection& value() const {
    if (!sel_) throw std::runtime_error(err_.message);
    return *sel_;
  }
  [[nodiscard]] const configure_error& error() const noexcept { return err_; }

 private:
  std::optional<selection> sel_;
  configure_error err_;
};

configure_result configure(::bpfprobe::lib::prober& p, struct bpf_object* obj, const options& opt = {});

// A libbpf skeleton (anything with an `obj` member).
template <class Skeleton>
requires requires(Skeleton* s) { s->obj; }
configure_result configure(::bpfprobe::lib::prober& p, Skeleton* skel, const options& opt = {}) {
  if (!skel) return configure_error{"compat configure: no skeleton (EINVAL)"};
  return configure(p, skel->obj, opt);
}

// One line per accessor, then an indented line per better tier that was passed over.
std::string to_string(const selection& sel);

}  // namespace lib
}  // namespace bpfprobe::compat

#ifdef BPFPROBE_IMPLEMENTATION
#include <bpfprobe/impl/library.ipp>
#endif
