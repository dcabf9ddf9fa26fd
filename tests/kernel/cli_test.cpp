// The CLI contract: exit codes, usage errors, --btf files good and bad, --require, --macros, colour.
#include <gtest/gtest.h>
#include <pty.h>

#include <cstring>
#include <optional>
#include <random>

#include "run.hpp"

namespace bpfprobe::testing {
namespace {

constexpr const char* kernel_btf_file = "/sys/kernel/btf/vmlinux";

// A crash or a signal is never an acceptable answer to bad input.
void expect_usage_error(const run_result& r, const std::string& what, const std::string& mention = {}) {
  EXPECT_EQ(r.code, 2) << what << "\nstdout: " << r.out << "\nstderr: " << r.err;
  EXPECT_FALSE(r.err.empty()) << what << ": no message on stderr";
  EXPECT_TRUE(r.out.empty() || r.out.find("program_types") == std::string::npos) << what << ": printed a report";
  if (!mention.empty()) {
    EXPECT_NE(r.err.find(mention), std::string::npos) << what << ": stderr: " << r.err;
  }
}

TEST(Cli, HelpAndVersionExitZero) {
  auto help = run_cli({"--help"});
  EXPECT_EQ(help.code, 0) << help.err;
  EXPECT_NE(help.out.find("--require"), std::string::npos);
  EXPECT_NE(help.out.find("Exit codes"), std::string::npos);
  auto version = run_cli({"--version"});
  EXPECT_EQ(version.code, 0) << version.err;
  EXPECT_NE((version.out + version.err).find("bpfprobe"), std::string::npos);
}

TEST(Cli, UnknownFlagIsAUsageError) {
  expect_usage_error(run_cli({"--frobnicate"}), "--frobnicate", "--frobnicate");
  expect_usage_error(run_cli({"--json", "--macros"}), "--json --macros");
  expect_usage_error(run_cli({"--threads", "0"}), "--threads 0");
}

TEST(Cli, MissingBtfFileIsAUsageError) {
  expect_usage_error(run_cli({"--btf", "/nonexistent/vmlinux"}), "--btf /nonexistent", "/nonexistent/vmlinux");
  temp_dir dir;
  expect_usage_error(run_cli({"--btf", dir.path().string()}), "--btf <directory>", "--btf");
}

TEST(Cli, CorruptBtfFilesAreUsageErrors) {
  temp_dir dir;
  std::mt19937 rng(20240601);
  std::vector<unsigned char> noise(64 * 1024);
  for (auto& b : noise) b = static_cast<unsigned char>(rng());
  write_file(dir / "random", noise.data(), noise.size());
  expect_usage_error(run_cli({"--btf", (dir / "random").string()}), "random bytes", "--btf");

  // BTF magic and version, then garbage: the header's lengths point outside the file.
  std::vector<unsigned char> magic = noise;
  magic[0] = 0x9f, magic[1] = 0xeb, magic[2] = 1, magic[3] = 0;
  write_file(dir / "magic", magic.data(), magic.size());
  expect_usage_error(run_cli({"--btf", (dir / "magic").string()}), "magic + garbage", "--btf");

  write_file(dir / "empty", "", 0);
  expect_usage_error(run_cli({"--btf", (dir / "empty").string()}), "empty file", "--btf");

  if (!std::filesystem::exists(kernel_btf_file)) GTEST_SKIP() << "no " << kernel_btf_file << " to truncate";
  std::string real = read_file(kernel_btf_file);
  for (std::size_t size : {std::size_t{16}, std::size_t{100}, real.size() / 2, real.size() - 1}) {
    auto path = dir / ("truncated-" + std::to_string(size));
    write_file(path, real.data(), size);
    expect_usage_error(run_cli({"--btf", path.string()}), "vmlinux truncated to " + std::to_string(size), "--btf");
  }
}

TEST(Cli, ValidBtfFileNamesTheReport) {
  if (!std::filesystem::exists(kernel_btf_file)) GTEST_SKIP() << "kernel has no BTF";
  temp_dir dir;
  std::string real = read_file(kernel_btf_file);
  auto copy = dir / "vmlinux.btf";
  write_file(copy, real.data(), real.size());
  auto from_file = cli_json({"--btf", copy.string()});
  EXPECT_EQ(from_file["kernel"]["names_source"], copy.string());
  EXPECT_EQ(from_file["kernel"]["names_from_btf"], true);
  EXPECT_EQ(from_file["kernel"]["btf"], copy.string());
  auto from_kernel = cli_json();
  auto keys = [](const nlohmann::json& j) {
    std::vector<std::string> out;
    for (const auto& [k, v] : j.items()) out.push_back(k);
    return out;
  };
  for (const char* section : {"program_types", "map_types", "helpers"})
    EXPECT_EQ(keys(from_file[section]), keys(from_kernel[section])) << section;
  EXPECT_EQ(keys(from_file["helpers"]["xdp"]), keys(from_kernel["helpers"]["xdp"]));
}

TEST(Cli, RequireExitCodes) {
  auto report = cli_json();
  if (report["program_types"]["socket_filter"]["status"] != "supported")
    GTEST_SKIP() << "socket_filter is not supported here (not root?)";
  auto ok = run_cli({"--require", "prog:socket_filter"});
  EXPECT_EQ(ok.code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("prog:socket_filter: supported"), std::string::npos) << ok.out;

  auto helper = run_cli({"--require", "prog:socket_filter,helper:socket_filter:bpf_map_lookup_elem,map:array"});
  EXPECT_EQ(helper.code, 0) << helper.out << helper.err;

  // An unsupported program type of this kernel, from the report (lirc_mode2 when it is one).
  std::string unsupported;
  if (report["program_types"].contains("lirc_mode2") &&
      report["program_types"]["lirc_mode2"]["status"] == "unsupported")
    unsupported = "lirc_mode2";
  for (const auto& [name, f] : report["program_types"].items())
    if (unsupported.empty() && f["status"] == "unsupported") unsupported = name;
  if (unsupported.empty()) GTEST_SKIP() << "every program type is supported or unknown here";
  auto no = run_cli({"--require", "prog:" + unsupported});
  EXPECT_EQ(no.code, 1) << no.out << no.err;
  EXPECT_NE(no.out.find("unsupported"), std::string::npos) << no.out;
  // Mixed: unsupported wins over supported.
  EXPECT_EQ(run_cli({"--require", "prog:socket_filter,prog:" + unsupported}).code, 1);

  // An unknown fact (when this kernel has one) wins over unsupported: exit 3.
  std::string unknown;
  for (const auto& [name, f] : report["program_types"].items())
    if (unknown.empty() && f["status"] == "unknown") unknown = name;
  if (!unknown.empty()) {
    auto u = run_cli({"--require", "prog:" + unsupported + ",prog:" + unknown});
    EXPECT_EQ(u.code, 3) << u.out << u.err;
  }
}

// A name the catalog does not know is a usage error in every family, with the closest names, never
// a verdict (exit 1 or 3) and never a whole report.
TEST(Cli, UnknownNamesAreUsageErrorsInEveryFamily) {
  const std::pair<const char*, const char*> typos[] = {
      {"prog:xpd", "did you mean xdp"},
      {"map:hsah", "did you mean hash"},
      {"helper:xdp:bpf_redirct", "did you mean bpf_redirect"},
      {"helper:xpd:bpf_redirect", "did you mean xdp"},
      {"misc:bounded_loop", "did you mean bounded_loops"},
      {"config:CONFIG_BPF_SYSCAL", "did you mean CONFIG_BPF_SYSCALL"},
      {"link:tcxx", "did you mean tcx"},
      {"link:tcx:tcx_ingres", "did you mean tcx_ingress"},
      {"iter:tsk", "did you mean task"},
      {"dynptr:skbb", "did you mean skb"},
      {"mechanism:link_pinn", "did you mean link_pin"},
      {"attach:xpd", "did you mean xdp"},
      {"attach:tc:tcxx", "did you mean tcx"},
  };
  // A kfunc this kernel has, misspelt (kfuncs are this kernel's own list).
  auto report = cli_json();
  std::string kfunc = report["kfuncs"].empty() ? "" : report["kfuncs"].begin().key();
  std::string kfunc_typo = "kfunc:" + kfunc.substr(0, kfunc.size() - 1), kfunc_hint = "did you mean " + kfunc;
  std::vector<std::pair<std::string, std::string>> all(std::begin(typos), std::end(typos));
  if (!kfunc.empty()) all.emplace_back(kfunc_typo, kfunc_hint);
  for (const auto& [key, hint] : all) {
    auto r = run_cli({"--require", key});
    EXPECT_EQ(r.code, 2) << key << ": " << r.out << r.err;
    EXPECT_NE(r.out.find(std::string(key) + ": no such"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(hint), std::string::npos) << key << ": " << r.out;
    EXPECT_EQ(r.out.find("program_types"), std::string::npos) << key << ": printed a report";
  }
}

// Every fact the report prints is a key --require knows (the catalog's names cover the report).
TEST(Cli, EveryReportFactIsAKnownKey) {
  auto report = cli_json();
  const std::pair<const char*, const char*> families[] = {
      {"program_types", "prog"}, {"map_types", "map"}, {"misc", "misc"},
      {"config", "config"},      {"kfuncs", "kfunc"},  {"links", "link"},
      {"iterators", "iter"},     {"dynptr", "dynptr"}, {"attach_mechanisms", "mechanism"},
  };
  std::string keys;
  std::size_t n = 0;
  for (const auto& [section, family] : families) {
    ASSERT_TRUE(report.contains(section)) << section;
    for (const auto& [name, fact] : report[section].items()) {
      keys += (keys.empty() ? "" : ",") + std::string(family) + ":" + name;
      ++n;
    }
  }
  for (const auto& [type, helpers] : report["helpers"].items()) {
    if (helpers.empty()) continue;
    keys += ",helper:" + type + ":" + helpers.begin().key();
    ++n;
  }
  auto r = run_cli({"--require", keys});
  EXPECT_NE(r.code, 2) << r.err;
  EXPECT_EQ(r.out.find(": no such"), std::string::npos) << r.out.substr(r.out.find(": no such") - 80, 200);
  EXPECT_EQ(static_cast<std::size_t>(std::count(r.out.begin(), r.out.end(), '\n')), n);
}

TEST(Cli, MalformedRequireIsAUsageError) {
  for (const char* bad : {"foo", "prog:", "helper:xdp", "helper::bpf_redirect", "nosuchsection:x", ","})
    expect_usage_error(run_cli({"--require", bad}), std::string("--require ") + bad);
}

TEST(Cli, MacrosUseBpftoolNames) {
  auto report = cli_json();
  if (report["helpers"]["socket_filter"]["bpf_map_lookup_elem"]["status"] != "supported")
    GTEST_SKIP() << "socket_filter helpers are not supported here (not root?)";
  auto r = run_cli({"--macros"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("#define HAVE_SOCKET_FILTER_PROG_TYPE\n"), std::string::npos);
  EXPECT_NE(r.out.find("#define BPF__PROG_TYPE_socket_filter__HELPER_bpf_map_lookup_elem 1\n"), std::string::npos);
  EXPECT_NE(r.out.find("#define HAVE_ARRAY_MAP_TYPE\n"), std::string::npos);
  // Helpers that are not available say 0, never nothing.
  EXPECT_NE(r.out.find("#define BPF__PROG_TYPE_socket_filter__HELPER_bpf_redirect 0\n"), std::string::npos);
}

// --markdown: the same verdicts as --json, as tables a person reads (one row per fact).
TEST(Cli, MarkdownReportMatchesTheJsonVerdicts) {
  auto report = cli_json();
  auto r = run_cli({"--markdown"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(r.out.starts_with("# BPF features of Linux " + report["kernel"]["release"].get<std::string>()));
  EXPECT_NE(r.out.find("\n## Summary\n"), std::string::npos);
  EXPECT_EQ(r.out.find('\033'), std::string::npos);
  const char* badge[] = {"✅ supported", "❌ unsupported", "❔ unknown"};
  for (const char* sec : {"program_types", "map_types", "misc"}) {
    for (const auto& [name, f] : report[sec].items()) {
      auto st = f["status"].get<std::string>();
      const char* b = st == "supported" ? badge[0] : st == "unsupported" ? badge[1] : badge[2];
      EXPECT_NE(r.out.find("| `" + name + "` | " + b + " |"), std::string::npos) << sec << "/" << name << " " << st;
    }
  }
  expect_usage_error(run_cli({"--markdown", "--json"}), "--markdown --json");
  expect_usage_error(run_cli({"--markdown", "--macros"}), "--markdown --macros");
}

// Runs the CLI with stdout on a pseudo-terminal and returns what it printed (nullopt: no terminal
// can be had here, e.g. no devpts mounted).
std::optional<std::string> run_on_tty(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  int master = -1;
  pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
  if (pid < 0) return std::nullopt;
  if (pid == 0) {
    apply_env(env);
    std::vector<std::string> full{cli_path()};
    full.insert(full.end(), args.begin(), args.end());
    auto argv = exec_args(full);
    execv(argv[0], argv.data());
    _exit(127);
  }
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = read(master, buf, sizeof(buf));
    if (n > 0)
      out.append(buf, static_cast<std::size_t>(n));
    else if (n < 0 && errno == EINTR)
      continue;
    else
      break;  // EIO once the child has closed the terminal
  }
  close(master);
  int st = 0;
  waitpid(pid, &st, 0);
  return out;
}

TEST(Cli, TextReportHasNoEscapesWithoutATerminalOrWithNoColor) {
  auto piped = run_cli({"--report"}, {"NO_COLOR"});
  ASSERT_EQ(piped.code, 0) << piped.err;
  EXPECT_NE(piped.out.find("Program types"), std::string::npos);
  EXPECT_EQ(piped.out.find('\033'), std::string::npos) << "escape codes on a pipe";
  auto no_color = run_cli({"--report"}, {"NO_COLOR=1"});
  EXPECT_EQ(no_color.out.find('\033'), std::string::npos);

  // On a terminal the report is coloured, unless NO_COLOR or --no-color says otherwise.
  auto tty = run_on_tty({"--report"}, {"NO_COLOR"});
  if (!tty) GTEST_SKIP() << "no pseudo-terminal here (forkpty: " << std::strerror(errno) << ")";
  EXPECT_NE(tty->find("Program types"), std::string::npos) << tty->substr(0, 200);
  EXPECT_NE(tty->find('\033'), std::string::npos) << "no colour on a terminal";
  auto tty_no_color = run_on_tty({"--report"}, {"NO_COLOR=1"}).value_or("");
  EXPECT_NE(tty_no_color.find("Program types"), std::string::npos);
  EXPECT_EQ(tty_no_color.find('\033'), std::string::npos) << "colour despite NO_COLOR";
  auto tty_flag = run_on_tty({"--report", "--no-color"}, {"NO_COLOR"}).value_or("");
  EXPECT_NE(tty_flag.find("Program types"), std::string::npos);
  EXPECT_EQ(tty_flag.find('\033'), std::string::npos) << "colour despite --no-color";
}

}  // namespace
}  // namespace bpfprobe::testing
