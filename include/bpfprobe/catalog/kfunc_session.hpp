// What kfunc probes share: the catalog and the call sites, built once per prober (kfunc_state), and
// the kernel objects one batch of probes holds while it runs (kfunc_session).
#pragma once

#include <algorithm>
#include <array>
#include <bpfprobe/btf/kfuncs.hpp>
#include <bpfprobe/catalog/kfunc_sites.hpp>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace bpfprobe::probe {

// What kfunc probes share, built once per prober: the catalog and the call sites. It holds no
// kernel object: a session (below) opens what the probes need and closes it when it goes.
struct kfunc_state {
  btf::kfunc_catalog catalog;
  std::optional<btf::kernel_btf> names_file;  // when names come from a file rather than the kernel
  std::vector<call_site> sites;               // fd-free recipes
  std::string error;                          // why nothing could be enumerated

  [[nodiscard]] std::vector<std::string> catalog_names() const {
    std::vector<std::string> out;
    for (const auto& f : catalog.funcs) out.push_back(f.name);
    return out;
  }
  [[nodiscard]] std::vector<std::string> modules() const {
    std::vector<std::string> out;
    for (const auto& f : catalog.funcs)
      if (f.module != "vmlinux" && std::find(out.begin(), out.end(), f.module) == out.end()) out.push_back(f.module);
    return out;
  }
};

// The objects a batch of kfunc probes needs: module BTF fds (named through fd_array) and the
// set-ups that hold objects. All closed when the session goes.
class kfunc_session {
 public:
  kfunc_session(const kfunc_state& st, const std::vector<std::string>& modules) {
    for (const auto& s : st.sites) {
      if (!s.make || s.blocked) {  // a blocked site makes no call: its description is enough
        sites_.push_back(&s);
        continue;
      }
      owned_.push_back(std::make_unique<call_site>(call_site{s.prog_type, s.variant, s.make(), s.blocked, {}}));
      sites_.push_back(owned_.back().get());
    }
    if (modules.empty()) return;
    if (auto fds = btf::kernel_btf_objects(modules)) {
      module_fds_ = std::move(fds).value();
      for (const auto& [m, fd] : module_fds_) fd_arrays_[m] = {0, fd.get()};
    } else {
      module_error_ = fds.error().describe();
    }
  }
  kfunc_session(const kfunc_session&) = delete;
  kfunc_session& operator=(const kfunc_session&) = delete;

  [[nodiscard]] std::span<const call_site* const> sites() const { return sites_; }
  [[nodiscard]] std::vector<const call_site*> sites_of(std::string_view prog_type) const {
    std::vector<const call_site*> out;
    for (const call_site* s : sites_)
      if (s->prog_type == prog_type) out.push_back(s);
    return out;
  }
  [[nodiscard]] kfunc_call call_of(const btf::kfunc_info& k) const {
    kfunc_call c{k.btf_id, nullptr, 0, {}};
    if (k.module == "vmlinux") return c;
    auto it = fd_arrays_.find(k.module);
    if (it == fd_arrays_.end()) {
      c.gap = "kernel BTF object of module " + k.module + " not found" +
              (module_error_.empty() ? "" : " (" + module_error_ + ")");
      return c;
    }
    c.fd_array = it->second.data();
    c.fd_index = 1;
    return c;
  }

 private:
  std::vector<const call_site*> sites_;
  std::vector<std::unique_ptr<call_site>> owned_;
  std::map<std::string, sys::unique_fd> module_fds_;
  std::map<std::string, std::array<int, 2>> fd_arrays_;  // {unused, module BTF fd}, stable addresses
  std::string module_error_;
};

// `names_path`: where kfunc names (and bpf_kfunc tags) come from; the running kernel's vmlinux by
// default. Ids for the calls are always the running kernel's, looked up by name.
inline std::unique_ptr<kfunc_state> make_kfunc_state(const context& ctx,
                                                     const std::function<bool(std::string_view)>& type_usable,
                                                     const std::filesystem::path& names_path) {
  auto st = std::make_unique<kfunc_state>();
  const btf::kernel_btf* kernel = ctx.kernel_btf();
  if (!kernel) {
    st->error = "no kernel BTF: kfuncs cannot be enumerated or called";
    return st;
  }
  const btf::kernel_btf* names = kernel;
  if (names_path != btf::vmlinux_path && names_path != kernel->path()) {
    auto f = btf::kernel_btf::open(names_path);
    if (!f) {
      st->error = f.error().describe();
      return st;
    }
    st->names_file.emplace(std::move(f).value());
    names = &*st->names_file;
  }
  st->catalog = btf::enumerate_kfuncs(*names, *kernel);
  st->sites = kfunc_call_sites(ctx, type_usable);
  kfunc_session session(*st, {});
  static constexpr auto ret0 = insn::return_zero();
  for (std::size_t i = 0; i < st->sites.size(); ++i) {
    sys::prog_load_args args = session.sites()[i]->setup.args;
    args.insns = ret0;
    auto fd = sys::prog_load(args);
    if (!fd && fd.error().log.empty()) {
      verdict v = classify::from_error(fd.error(), load_rules(ctx, st->sites[i].prog_type));
      if (v.state == status::unknown) st->sites[i].blocked = std::move(v);
    }
  }
  return st;
}

}  // namespace bpfprobe::probe
