// The prober, the way applications include it: ask single facts (cached), or the whole report.
//
//   #include <bpfprobe/prober.hpp>
//   bpfprobe::prober p;
//   if (p.helper("xdp", "bpf_redirect").supported()) ...
//   bpfprobe::report r = bpfprobe::complete_report(p);  // every section + compat tiers + attach paths
//
// This header declares a small handle and includes none of the probing code, so a source file that
// includes it compiles in a fraction of a second. The definitions come from one place:
// - the compiled library (CMake bpfprobe::bpfprobe, pkg-config bpfprobe; BPFPROBE_COMPILED_LIB), or
// - in the header-only mode (bpfprobe::header_only, BPFPROBE_HEADER_ONLY), one source file of the
//   application's own that holds only
//       #define BPFPROBE_IMPLEMENTATION
//       #include <bpfprobe/prober.hpp>
//   as single-header libraries do. That file compiles the whole prober; it must not use the API itself
//   (there bpfprobe::prober names the handle and the full prober of bpfprobe/prober/prober.hpp).
#pragma once

#include <bpfprobe/config.hpp>

#ifdef BPFPROBE_IMPLEMENTATION
// The full prober, named before the handle makes bpfprobe::prober ambiguous.
#include <bpfprobe/impl/library_prelude.ipp>
#endif

#include <bpfprobe/probe/verdict.hpp>
#include <bpfprobe/report/model.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace bpfprobe {
// The handle's names live in an inline namespace so that the implementation, which holds the full
// prober of bpfprobe/prober/prober.hpp, can define both.
inline namespace lib {

struct prober_options {
  std::string btf_path = "/sys/kernel/btf/vmlinux";  // type names come from this BTF file
  unsigned threads = 0;                              // probe threads for full_report; 0: one per CPU
  bool raise_memlock = true;                         // raise RLIMIT_MEMLOCK as libbpf does (kernels < 5.11)
  std::string kfunc_btf;                             // kfunc names and tags from here; empty: btf_path
  bool kfunc_prog_types = false;                     // full_report: every program type per kfunc (slow)
  // The persistent verdict cache (README "The persistent verdict cache"): on by default.
  bool cache = true;
  bool cache_refresh = false;  // do not read it, but write what this run decides
  std::string cache_dir;       // empty: $BPFPROBE_CACHE_DIR, /run/bpfprobe or $XDG_RUNTIME_DIR/bpfprobe
};

// Every query returns supported / unsupported / unknown with the reason and evidence. Conclusive
// verdicts are cached for the prober's life; it may be shared between threads.
class prober {
 public:
  explicit prober(const prober_options& opt = {});
  ~prober();
  prober(prober&&) noexcept;
  prober& operator=(prober&&) noexcept;

  verdict prog_type(std::string_view name);                                       // "xdp"
  verdict map_type(std::string_view name);                                        // "ringbuf"
  verdict helper(std::string_view prog_type, std::string_view helper);            // "xdp", "bpf_redirect"
  verdict misc(std::string_view name);                                            // "bounded_loops"
  verdict kfunc(std::string_view name);                                           // "bpf_rdonly_cast"
  verdict kfunc(std::string_view name, std::string_view prog_type);               // may this type call it?
  verdict iterator(std::string_view name);                                        // "task", "bpf_iter_num"
  verdict dynptr(std::string_view name);                                          // "skb", "bpf_dynptr_slice"
  verdict link(std::string_view link_type);                                       // "tcx"
  verdict link_attach_type(std::string_view link_type, std::string_view attach);  // "tracing", "trace_fentry"
  verdict mechanism(std::string_view name);                                       // "link_pin"
  // Attaches a tiny program, fires it once and reads it back (run only when asked); the verdict may
  // carry a measured value (verdict::value).
  verdict calibrate(std::string_view name);  // "xdp_fires", "ktime_offset"
  section calibration();                     // every calibration fact (the report's "calibration")
  report full_report();                      // every core section

 private:
  friend struct access;  // the library's own functions (attach_paths, compat::configure, ...)
  struct impl;
  std::unique_ptr<impl> impl_;
};

// Per hook, the attach paths in preference order and the one chosen (the report's "attach" section).
std::vector<attach_choice> attach_paths(prober& p);

// Per accessor of bpf/bpfprobe/compat.bpf.h, the tier it gets here (the report's "compat" section).
std::vector<compat_accessor> compat_tiers(prober& p);

// The report the bpfprobe command prints: full_report() with the compat tiers and attach paths.
report complete_report(prober& p);

}  // namespace lib
}  // namespace bpfprobe

#ifdef BPFPROBE_IMPLEMENTATION
#include <bpfprobe/configure.hpp>  // which ends with the definitions of both headers (impl/library.ipp)
#endif
