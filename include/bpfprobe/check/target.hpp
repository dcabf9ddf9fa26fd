// A kernel snapshot as the kernel a check answers for (`bpfprobe check --target`): the prober
// answers from the snapshot's own verdicts (by the prober's keys, section "prober" of the
// verdicts), the check reads its BTF, kallsyms names and config, and nothing is probed or loaded.
#pragma once

#include <linux/version.h>

#include <bpfprobe/check/check.hpp>
#include <bpfprobe/check/snapshot.hpp>
#include <bpfprobe/probe/context.hpp>
#include <cstdio>
#include <memory>
#include <string>

namespace bpfprobe::objcheck {

// What a prober needs to answer for the snapshot's kernel; nullptr with `why` when the snapshot
// cannot stand in for a kernel (made by a bpfprobe that did not record the prober's verdicts).
inline std::shared_ptr<const probe::recorded_kernel> recorded_kernel_of(const snapshot::kernel_snapshot& s,
                                                                        std::string name, std::string& why) {
  auto r = std::make_shared<probe::recorded_kernel>();
  r->name = std::move(name);
  for (const auto& row : s.verdicts())
    if (row.section == snapshot::prober_section) r->verdicts.emplace(row.name, row.v);
  if (r->verdicts.empty()) {
    why = "records no prober verdicts (made by an older bpfprobe): make it again with this one";
    return nullptr;
  }
  if (const struct btf* b = s.vmlinux_btf()) {
    __u32 size = 0;
    const void* raw = btf__raw_data(b, &size);
    if (raw) r->vmlinux_btf.assign(static_cast<const char*>(raw), size);
  }
  // "none [integrity] confidentiality": the bracketed word, as context reads securityfs.
  std::string l = s.meta_value("lockdown");
  if (auto open = l.find('['), close = l.find(']'); open != std::string::npos && close > open)
    r->lockdown = l.substr(open + 1, close - open - 1);
  unsigned a = 0, b = 0, c = 0;
  if (std::sscanf(s.release().c_str(), "%u.%u.%u", &a, &b, &c) >= 2)
    r->version_code = KERNEL_VERSION(a, b, c > 255 ? 255 : c);
  return r;
}

// What the check reads of the snapshot's kernel; `s` must outlive it.
inline recorded_kernel_view kernel_view_of(const snapshot::kernel_snapshot& s) {
  recorded_kernel_view v;
  v.vmlinux = s.vmlinux_btf();
  for (const auto& [name, b] : s.module_btfs()) v.modules.push_back(b.get());
  v.kallsyms = s.kallsyms();
  v.config = s.config();
  return v;
}

}  // namespace bpfprobe::objcheck
