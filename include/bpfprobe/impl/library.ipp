// Part of the implementation (BPFPROBE_IMPLEMENTATION, see bpfprobe/prober.hpp): the definitions of
// the handle of bpfprobe/prober.hpp and configure.hpp over the full prober (library_prelude.ipp),
// compiled in exactly one translation unit: the compiled library's src/lib/prober.cpp, or in the
// header-only mode the application's own implementation file.
// Included at the end of configure.hpp, after both headers' declarations.
#pragma once

#include <bpfprobe/impl/library_prelude.ipp>

namespace bpfprobe {
inline namespace lib {

struct prober::impl {
  lib_impl::full_prober p;
  explicit impl(const probe::options& o) : p(o) {}
};

struct access {
  static lib_impl::full_prober& full(prober& p) { return p.impl_->p; }
};

namespace {
probe::options to_options(const prober_options& o) {
  probe::options out;
  out.btf_path = o.btf_path;
  out.threads = o.threads;
  out.raise_memlock = o.raise_memlock;
  out.kfunc_btf = o.kfunc_btf;
  out.kfunc_prog_types = o.kfunc_prog_types;
  out.cache.enabled = o.cache;
  out.cache.refresh = o.cache_refresh;
  out.cache.dir = o.cache_dir;
  return out;
}
}  // namespace

prober::prober(const prober_options& opt) : impl_(std::make_unique<impl>(to_options(opt))) {}
prober::~prober() = default;
prober::prober(prober&&) noexcept = default;
prober& prober::operator=(prober&&) noexcept = default;

verdict prober::prog_type(std::string_view name) { return impl_->p.prog_type(name); }
verdict prober::map_type(std::string_view name) { return impl_->p.map_type(name); }
verdict prober::helper(std::string_view type, std::string_view helper) { return impl_->p.helper(type, helper); }
verdict prober::misc(std::string_view name) { return impl_->p.misc(name); }
verdict prober::kfunc(std::string_view name) { return impl_->p.kfunc(name); }
verdict prober::kfunc(std::string_view name, std::string_view type) { return impl_->p.kfunc(name, type); }
verdict prober::iterator(std::string_view name) { return impl_->p.iterator(name); }
verdict prober::dynptr(std::string_view name) { return impl_->p.dynptr(name); }
verdict prober::link(std::string_view link_type) { return impl_->p.link(link_type); }
verdict prober::link_attach_type(std::string_view link_type, std::string_view attach) {
  return impl_->p.link_attach_type(link_type, attach);
}
verdict prober::mechanism(std::string_view name) { return impl_->p.mechanism(name); }
verdict prober::calibrate(std::string_view name) { return impl_->p.calibrate(name); }
section prober::calibration() { return impl_->p.calibration(); }
report prober::full_report() { return impl_->p.full_report(); }

std::vector<attach_choice> attach_paths(prober& p) { return decide::all(decide::from(access::full(p))); }
std::vector<compat_accessor> compat_tiers(prober& p) { return compat::report_tiers(access::full(p)); }

report complete_report(prober& p) {
  report r = p.full_report();
  r.compat = compat_tiers(p);  // helper verdicts come from the report's cache
  r.attach = attach_paths(p);  // reuses the link and mechanism verdicts just probed
  return r;
}

}  // namespace lib
}  // namespace bpfprobe

namespace bpfprobe::compat {
inline namespace lib {

configure_result configure(::bpfprobe::lib::prober& p, struct bpf_object* obj, const options& opt) {
  auto r = lib_impl::configure(::bpfprobe::lib::access::full(p), obj, opt);
  if (!r) return configure_error{r.error().describe()};
  return std::move(r).value();
}

std::string to_string(const selection& sel) { return lib_impl::to_string(sel); }

}  // namespace lib
}  // namespace bpfprobe::compat
