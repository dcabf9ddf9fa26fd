// bpfprobe: probe the running kernel's BPF features and print a report.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <bpfprobe/compat/report.hpp>
#include <bpfprobe/report/render_json.hpp>
#include <bpfprobe/report/render_stream.hpp>
#include <cstdlib>
#include <future>
#include <iostream>

#include "build_info.hpp"
#include "cache_cmd.hpp"
#include "render.hpp"
#include "snapshot_cmd.hpp"

namespace {

constexpr const char* exit_codes_help =
    "Exit codes:\n"
    "  0  success; with --require, every feature is supported\n"
    "  1  --require: a feature is unsupported\n"
    "  2  usage error: unknown flag, empty option value, bad --require syntax or feature, a --btf file that is\n"
    "     unreadable, not a regular file, corrupt, or whose names or enum values fail the checks\n"
    "  3  --require: a feature could not be decided (unknown; e.g. not permitted)\n"
    "  4  the report could not be produced\n"
    "bpfprobe check FILE...: 0 every program loads, 1 one does not, 3 one is unknown, 2 bad input\n"
    "bpfprobe snapshot: 0 written or shown, 2 a snapshot that cannot be read, 4 one that cannot be made\n";

int silent_libbpf(enum libbpf_print_level, const char*, va_list) { return 0; }

// An option given with an empty value ("--btf ''") is a usage error, never silently ignored.
const CLI::Validator non_empty(
    [](std::string& value) { return value.empty() ? std::string("the value must not be empty") : std::string(); },
    "NON-EMPTY");

}  // namespace

int main(int argc, char** argv) {
  using namespace bpfprobe;
  CLI::App app{
      "bpfprobe: probe the running kernel's BPF features (program, map and helper support,\n"
      "kfuncs, links, dynptr, iterators, attach paths) and say why each verdict was reached."};
  app.footer(exit_codes_help);
  app.set_version_flag("--version", std::string("bpfprobe ") + cli::build_version + " (commit " + cli::build_commit +
                                        ", libbpf " + std::to_string(libbpf_major_version()) + "." +
                                        std::to_string(libbpf_minor_version()) + ")");
  bool report_flag = false, calibrate = false, macros = false, markdown = false, verbose = false, no_color = false;
  std::string json;  // "" (no --json), "bpfprobe" or "bpftool"
  std::string btf_file, require_list;
  unsigned threads = 0;
  app.add_flag("--report", report_flag, "Print the full report (the default action)");
  app.add_flag("--calibrate", calibrate,
               "Add the calibration section: attach tiny programs, fire each once from this process and read back "
               "what they recorded (does it run, and with what value)");
  auto* json_opt = app.add_flag("--json{bpfprobe}", json,
                                "Print the report as JSON; --json=bpftool: in the shape of `bpftool -j feature probe "
                                "kernel` (unknown facts are null)")
                       ->check(CLI::IsMember({"bpfprobe", "bpftool"}));
  auto* macros_opt = app.add_flag("--macros", macros, "Print the report as C macros (bpftool-compatible HAVE_* names)");
  json_opt->excludes(macros_opt);
  auto* markdown_opt =
      app.add_flag("--markdown", markdown, "Print the report as Markdown (summary, then a table per section)");
  markdown_opt->excludes(json_opt)->excludes(macros_opt);
  app.add_flag("-v,--verbose", verbose, "Text report: list every helper per program type");
  app.add_flag("--no-color", no_color, "Never colour the text report (NO_COLOR is honoured too)");
  auto* btf_opt =
      app.add_option("--btf", btf_file, "Read type names from this BTF file (raw BTF or ELF) instead of the kernel's")
          ->check(non_empty);
  auto* require_opt =
      app.add_option(
             "--require", require_list,
             "Check features (comma-separated), exit 0/1/3 as below. Families:\n"
             "  prog:xdp  map:ringbuf  helper:xdp:bpf_redirect  kfunc:bpf_rdonly_cast[:PROG]\n"
             "  link:tcx[:ATTACH]  mechanism:link_pin  dynptr:bpf_dynptr_from_skb  iter:task  misc:bounded_loops\n"
             "  config:CONFIG_BPF  attach:tc[:PATH]  calib:xdp_fires")
          ->check(non_empty);
  app.add_option("--threads", threads, "Probe threads (default: one per CPU)")
      ->check(non_empty)
      ->check(CLI::Range(1u, 256u));
  std::string kfuncs_mode = "default";
  app.add_option("--kfuncs", kfuncs_mode,
                 "kfunc detail: 'default' gives each kfunc one verdict; 'full' also finds every program type "
                 "that may call each kfunc (slower)")
      ->check(non_empty)
      ->check(CLI::IsMember({"default", "full"}));
  std::string list_prefix;
  // Hidden: for shell completion (completions/bpfprobe.bash).
  auto* list_keys_opt = app.add_option("--list-keys", list_prefix)->expected(0, 1)->group("");
  std::string diff_a, diff_b;
  auto* diff_cmd = app.add_subcommand("diff",
                                      "Compare two --json reports: facts added, removed or changed "
                                      "(exit 0 same, 1 different, 2 unreadable)");
  diff_cmd->add_option("A", diff_a, "First report (bpfprobe --json)")->required()->check(non_empty);
  diff_cmd->add_option("B", diff_b, "Second report")->required()->check(non_empty);
  cli::cache_flags cache;
  cli::add_cache_options(app, cache);
  cli::check_request check_req;
  auto* check_cmd = app.add_subcommand("check",
                                       "Will each program of a BPF object load here? Static prediction from the "
                                       "kernel's verdicts, then a trial load of each program alone (never "
                                       "attached); exit 0 all load, 1 one does not, 3 one is unknown, 2 bad input");
  check_cmd->add_option("FILE", check_req.files, "BPF object files (.bpf.o)")->required()->check(non_empty);
  auto* check_json = check_cmd->add_flag("--json", check_req.json, "Print the result as JSON (docs/check-json.md)");
  check_cmd
      ->add_option("--format", check_req.format,
                   "Output: text (default), json (= --json), github (::error annotations), junit (XML), sarif "
                   "(2.1.0); the CI formats give one result per program that does not load and per warning, at "
                   "its source line")
      ->check(CLI::IsMember({"text", "json", "github", "junit", "sarif"}))
      ->excludes(check_json);
  check_cmd->add_flag("--no-load", check_req.no_load, "Static prediction only: load none of the object's programs");
  check_cmd
      ->add_option("--target", check_req.targets,
                   "Check for the kernel of this snapshot (`bpfprobe snapshot`, docs/snapshot.md; a directory: its "
                   "*.snap files) instead of this one, statically, loading nothing (repeatable: one result per "
                   "kernel, then a grid with the first kernel each program loads on; text and json output)")
      ->allow_extra_args(false)
      ->check(non_empty);
  check_cmd->add_option("--prog", check_req.programs, "Check only this program (repeatable)")->check(non_empty);
  check_cmd->add_option("--threads", check_req.threads, "Trial loads at once (default: one per CPU)")
      ->check(CLI::Range(1u, 256u));
  cli::snapshot_request snapshot_req;
  cli::add_snapshot_command(app, snapshot_req);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return cli::exit_usage;
  }

  if (diff_cmd->parsed()) return cli::diff_reports(std::cout, std::cerr, diff_a, diff_b);
  libbpf_set_print(silent_libbpf);
  probe::options opt;
  opt.threads = threads;
  opt.kfunc_prog_types = kfuncs_mode == "full";
  cli::apply_cache_flags(cache, opt);
  if (check_cmd->parsed()) {
    check_req.prober_options = opt;  // the persistent verdict cache flags apply to check too
    try {
      return cli::run_check(std::cout, std::cerr, check_req);
    } catch (const std::exception& e) {
      std::cerr << "bpfprobe check: " << e.what() << '\n';
      return cli::exit_failure;
    }
  }

  if (snapshot_req.command->parsed()) {
    try {
      return cli::run_snapshot(std::cout, std::cerr, snapshot_req, opt);
    } catch (const std::exception& e) {
      std::cerr << "bpfprobe: snapshot: " << e.what() << '\n';
      return cli::exit_failure;
    }
  }
  if (cache.command->parsed()) return cli::run_cache_command(std::cout, std::cerr, cache, opt);
  if (btf_opt->count() > 0) {
    // The file must be a sane BTF whose uapi enums agree with this build and the running kernel.
    auto running = bpfprobe::btf::kernel_btf::open();
    auto check = bpfprobe::btf::open_checked(btf_file, running ? &running.value() : nullptr);
    if (!check) {
      std::cerr << "bpfprobe: --btf: " << check.error().describe() << '\n';
      return cli::exit_usage;
    }
    opt.btf_path = btf_file;
  }

  try {
    prober p(opt);
    if (list_keys_opt->count() > 0) return cli::list_keys(std::cout, p, list_prefix);
    if (require_opt->count() > 0) {
      auto parsed = cli::parse_requirements(require_list);
      if (auto* err = std::get_if<std::string>(&parsed)) {
        std::cerr << "bpfprobe: " << *err << '\n';
        return cli::exit_usage;
      }
      auto outcome = cli::check_requirements(p, std::get<std::vector<cli::requirement>>(parsed));
      for (const auto& line : outcome.lines) std::cout << line << '\n';
      return outcome.code;
    }
    // Calibration mostly waits for the kernel (grace periods as its probes detach): it runs beside
    // the report.
    std::future<section> calibration;
    if (calibrate) calibration = std::async(std::launch::async, [&p] { return p.calibration(); });
    report r = p.full_report();
    r.compat = compat::report_tiers(p);       // helper verdicts come from the report's cache
    r.attach = decide::all(decide::from(p));  // reuses the link/mechanism verdicts just probed
    if (calibrate) r.more.emplace_back("calibration", calibration.get());
    if (json == "bpftool") {
      std::cout << render::bpftool_json(r) << '\n';
    } else if (!json.empty()) {
      std::cout << render::json(r) << '\n';
    } else if (macros) {
      render::macros(std::cout, r);
    } else if (markdown) {
      render::markdown(std::cout, r);
    } else {
      bool color = !no_color && isatty(STDOUT_FILENO) && std::getenv("NO_COLOR") == nullptr;
      render::text(std::cout, r, {.color = color, .verbose = verbose});
    }
    std::cout.flush();
    if (!std::cout) {
      std::cerr << "bpfprobe: failed to write the report\n";
      return cli::exit_failure;
    }
  } catch (const std::exception& e) {
    std::cerr << "bpfprobe: " << e.what() << '\n';
    return cli::exit_failure;
  }
  return cli::exit_ok;
}
