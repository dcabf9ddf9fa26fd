// A BPF object libbpf refuses to open (bpf_object__open: legacy SEC("maps") definitions since libbpf
// 1.0, BTF-defined maps or global data without .BTF, ...): none of its programs can be loaded by this
// loader. Each program of the ELF (an STT_FUNC symbol in a code section other than .text, as libbpf
// counts them) gets that answer with code `loader`, so the object is judged, not dismissed as bad
// input.
#pragma once

#include <gelf.h>

#include <bpfprobe/check/elf_image.hpp>
#include <bpfprobe/check/model.hpp>
#include <bpfprobe/check/trial.hpp>
#include <string>
#include <string_view>
#include <utility>

namespace bpfprobe::objcheck {

// The line of libbpf's messages (`msgs`, while opening) that names a refusal of a well-formed object,
// and its fix; empty when the refusal is not one of those (then the file is bad input).
inline std::pair<std::string, std::string> unopenable_cause(std::string_view msgs, const elf_image& img) {
  if (auto l = detail::line_with(msgs, "legacy map definitions"); !l.empty())
    return {l, "define the maps in SEC(\".maps\") with BTF (__uint/__type): libbpf 1.0 dropped SEC(\"maps\")"};
  if (auto l = detail::line_with(msgs, "BTF is required"); !l.empty() && img.btf.empty())
    return {l, "build with clang -g so the object carries the .BTF its maps and global data need"};
  return {};
}

// The programs of `img`, each refused with libbpf's message; none when the ELF has none or libbpf's
// refusal is not one unopenable_cause knows (then the object is reported as bad input).
inline object_result unopenable(const elf_image& img, std::string_view msgs, int err) {
  object_result res;
  res.path = img.path;
  auto [message, fix] = unopenable_cause(msgs, img);
  if (message.empty()) return res;
  std::string reason = "libbpf cannot open the object (" + sys::errno_name(err) + ")";
  for (const auto& cs : img.code) {
    if (cs.name == ".text") continue;
    for (const auto& sym : img.symbols) {
      if (sym.section != cs.index || sym.type != STT_FUNC || sym.name.empty()) continue;
      program_result r;
      r.name = sym.name;
      r.section = cs.name;
      r.static_v = verdict::no(reason, err, message);
      r.result = r.static_v;
      r.verifier = "not reached";
      r.code = "loader";
      r.fix = fix;
      res.programs.push_back(std::move(r));
    }
  }
  if (!res.programs.empty()) res.v = {status::unsupported, res.programs.front().name + ": " + reason, err, message};
  return res;
}

}  // namespace bpfprobe::objcheck
