// `bpfprobe snapshot`: the kernel snapshot a static check of this kernel needs, written or read back.
#include "snapshot_cmd.hpp"

#include <bpfprobe/check/snapshot.hpp>
#include <bpfprobe/check/snapshot_write.hpp>
#include <bpfprobe/compat/report.hpp>
#include <bpfprobe/report/render_json.hpp>

#include "build_info.hpp"
#include "render.hpp"

namespace bpfprobe::cli {

void add_snapshot_command(CLI::App& app, snapshot_request& req) {
  req.command = app.add_subcommand("snapshot",
                                   "Write this kernel's snapshot for `check` elsewhere (verdicts, BTF, kallsyms "
                                   "names, config, lockdown and privileges; docs/snapshot.md), or --show one; exit "
                                   "0, 2 a snapshot that cannot be read, 4 one that cannot be made");
  auto nonempty = CLI::Validator(
      [](std::string& v) { return v.empty() ? std::string("the value must not be empty") : std::string(); },
      "NON-EMPTY");
  auto* out = req.command->add_option("-o,--output", req.output, "Write the snapshot to this file")->check(nonempty);
  auto* show = req.command->add_option("--show", req.show, "Read this snapshot and summarize it")->check(nonempty);
  out->excludes(show);
  req.command->require_option(1);
}

namespace {

// The report as --json prints it, less the evidence of supported verdicts (snapshot::verdict_rows says
// why): every object with "status": "supported" gets "evidence": "".
std::string stable_json(const report& r) {
  auto j = nlohmann::json::parse(render::json(r));
  auto walk = [](auto& self, nlohmann::json& x) -> void {
    if (x.is_object()) {
      if (auto st = x.find("status"); st != x.end() && *st == "supported" && x.contains("evidence")) x["evidence"] = "";
      for (auto& [k, v] : x.items()) self(self, v);
    } else if (x.is_array()) {
      for (auto& v : x) self(self, v);
    }
  };
  walk(walk, j);
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

int show(std::ostream& out, std::ostream& err, const std::string& path) {
  auto r = snapshot::kernel_snapshot::load(path);
  if (auto* e = std::get_if<std::string>(&r)) {
    err << "bpfprobe: snapshot: " << *e << '\n';
    return snapshot::exit_bad_snapshot;
  }
  const auto& s = std::get<snapshot::kernel_snapshot>(r);
  for (const auto& [k, v] : s.meta()) out << k << ": " << btf::escape(v, 200) << '\n';
  std::size_t counts[3] = {};
  for (const auto& v : s.verdicts()) ++counts[static_cast<int>(v.v.state)];
  out << "verdicts: " << s.verdicts().size() << " (" << counts[static_cast<int>(status::supported)] << " supported, "
      << counts[static_cast<int>(status::unsupported)] << " unsupported, " << counts[static_cast<int>(status::unknown)]
      << " unknown)\n";
  out << "vmlinux_btf_types: " << (s.vmlinux_btf() ? btf__type_cnt(s.vmlinux_btf()) - 1 : 0) << '\n';
  out << "module_btfs: " << s.module_btfs().size() << '\n';
  out << "kallsyms_names: " << s.kallsyms().names.size() << '\n';
  out << "config_values: " << s.config().values.size() << '\n';
  for (const auto& z : s.sizes())
    out << "section " << z.name << ": " << z.stored << " bytes stored, " << z.raw << " raw\n";
  return exit_ok;
}

}  // namespace

int run_snapshot(std::ostream& out, std::ostream& err, const snapshot_request& req, const probe::options& opt) {
  if (!req.show.empty()) return show(out, err, req.show);
  // Every program type each kfunc may be called from: check --target asks per program type.
  probe::options full = opt;
  full.kfunc_prog_types = true;
  // Fresh probes, never the cache's verdicts: a warm run probes again only the facts the cache lacks,
  // so the unknowns it did not keep (recorded only where probed) would differ from a cold run's.
  full.cache.refresh = true;
  prober p(full);
  report r = p.full_report();
  r.compat = compat::report_tiers(p);
  r.attach = decide::all(decide::from(p));
  auto contents = snapshot::from_host(r, stable_json(r), build_version);
  snapshot::add_prober_rows(contents.verdicts, p.decided());
  auto bytes = snapshot::serialize(contents);
  if (!bytes) {
    err << "bpfprobe: snapshot: a section is larger than the format allows (docs/snapshot.md)\n";
    return exit_failure;
  }
  if (auto e = snapshot::write_file(req.output, *bytes); !e.empty()) {
    err << "bpfprobe: snapshot: " << btf::escape(e, 300) << '\n';
    return exit_failure;
  }
  out << "wrote " << btf::escape(req.output, 200) << ": " << bytes->size() << " bytes, " << contents.verdicts.size()
      << " verdicts, " << contents.module_btf.size() << " module BTFs, " << contents.kallsyms.size()
      << " kallsyms names, " << contents.config.size() << " config values\n";
  return exit_ok;
}

}  // namespace bpfprobe::cli
