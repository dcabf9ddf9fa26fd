// Hostile --btf input end to end: a sample of the BTF corpus (tests/fuzz/corpus/btf) through the
// CLI. A rejected file is exit 2 with one printable line on stderr and nothing on stdout; an accepted
// one gives the verdicts of a run without --btf for every name the file has, --macros output that
// holds only macros, comments and blank lines, and JSON that parses. Also the file and option rules:
// FIFOs are refused at once, errnos print by name, empty option values are usage errors.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <bpfprobe/bpfprobe.hpp>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "run.hpp"

#ifndef BPFPROBE_SOURCE_DIR
#error "BPFPROBE_SOURCE_DIR must name the source tree"
#endif

namespace bpfprobe::testing {
namespace {

namespace fs = std::filesystem;

const fs::path corpus_dir = fs::path(BPFPROBE_SOURCE_DIR) / "tests/fuzz/corpus/btf";

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

bool printable(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return c >= 0x20 && c < 0x7f; });
}

// Exit 2, one printable line on stderr, no report.
void expect_rejected(const run_result& r, const std::string& what) {
  EXPECT_EQ(r.code, 2) << what << "\nstdout: " << r.out.substr(0, 300) << "\nstderr: " << r.err;
  EXPECT_TRUE(r.out.empty()) << what << ": printed " << r.out.substr(0, 300);
  auto err = lines_of(r.err);
  ASSERT_EQ(err.size(), 1u) << what << ": stderr is not one line: " << btf::escape(r.err, 600);
  EXPECT_TRUE(printable(err[0])) << what << ": " << btf::escape(err[0], 600);
}

// Lazily probed facts whose names come from the enums (program, map and helper types).
const std::vector<std::string> required_keys = {"prog:socket_filter",
                                                "prog:xdp",
                                                "prog:sched_cls",
                                                "prog:tracepoint",
                                                "map:hash",
                                                "map:array",
                                                "map:ringbuf",
                                                "helper:sched_cls:bpf_skb_load_bytes",
                                                "helper:xdp:bpf_redirect",
                                                "helper:socket_filter:bpf_trace_printk",
                                                "helper:tracepoint:bpf_skb_load_bytes"};

std::string joined_keys() {
  std::string out;
  for (const auto& k : required_keys) out += (out.empty() ? "" : ",") + k;
  return out;
}

// Whether every name a key needs is in the enums the file gives (with the built-in fallback).
bool names_exist(const btf::kernel_enums& e, const std::string& key) {
  auto parts = lines_of(std::regex_replace(key, std::regex(":"), "\n"));
  auto has = [](const std::vector<btf::entry>& t, const std::string& n) {
    return btf::kernel_enums::value_of(t, n).has_value();
  };
  if (parts[0] == "prog") return has(e.prog_types, parts[1]);
  if (parts[0] == "map") return has(e.map_types, parts[1]);
  return has(e.prog_types, parts[1]) && has(e.helpers, parts[2]);
}

std::map<std::string, std::string> by_key(const std::string& out) {
  std::map<std::string, std::string> m;
  for (const auto& line : lines_of(out)) m[line.substr(0, line.find(": "))] = line;
  return m;
}

TEST(CliBtfInput, CorpusSampleGivesUsageErrorsOrTheBaselineVerdicts) {
  if (!is_root()) GTEST_SKIP() << "verdicts need root";
  auto baseline = run_cli({"--require", joined_keys()});
  ASSERT_NE(baseline.code, 2) << baseline.err;
  auto base = by_key(baseline.out);
  ASSERT_EQ(base.size(), required_keys.size()) << baseline.out;

  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(corpus_dir)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  int n_bad = 0, n_any = 0, accepted = 0, rejected = 0;
  for (const auto& p : files) {
    std::string name = p.filename().string();
    bool ok = name.starts_with("ok-");
    if (name.starts_with("bad-") && n_bad++ % 12 != 0) continue;
    if (name.starts_with("any-") && n_any++ % 8 != 0) continue;
    auto r = run_cli({"--btf", p.string(), "--require", joined_keys()});
    if (r.code == 2) {
      ++rejected;
      EXPECT_FALSE(ok) << name << " rejected: " << r.err;
      expect_rejected(r, name);
      continue;
    }
    ++accepted;
    EXPECT_FALSE(name.starts_with("bad-")) << name << " accepted:\n" << r.out;
    auto k = btf::kernel_btf::open(p);
    ASSERT_TRUE(k) << name;
    auto enums = probe::enums_with_fallback(k.value());
    auto got = by_key(r.out);
    for (const auto& key : required_keys) {
      if (!names_exist(enums, key)) continue;
      EXPECT_EQ(got[key], base[key]) << name << ": " << key;
    }
  }
  EXPECT_GE(accepted, 10);
  EXPECT_GE(rejected, 20);
}

// Each line of --macros output is a #define of an identifier, a one-line comment, or blank.
void expect_only_macros(const std::string& out, const std::string& what) {
  static const std::regex define(R"(#define [A-Za-z_][A-Za-z0-9_]*(\([A-Za-z_, ]*\))?( [^\n]*)?)");
  int defines = 0;
  for (const auto& line : lines_of(out)) {
    if (line.empty()) continue;
    ASSERT_TRUE(printable(line)) << what << ": " << btf::escape(line, 300);
    if (line.starts_with("/*")) {
      EXPECT_TRUE(line.ends_with("*/") && line.find("*/") == line.size() - 2) << what << ": " << line;
      continue;
    }
    EXPECT_TRUE(std::regex_match(line, define)) << what << ": " << line;
    ++defines;
  }
  EXPECT_GT(defines, 50) << what;
}

std::set<std::string> type_and_helper_lines(const std::string& out) {
  std::set<std::string> s;
  for (const auto& line : lines_of(out))
    if (line.find("_PROG_TYPE") != std::string::npos || line.find("_MAP_TYPE") != std::string::npos) s.insert(line);
  return s;
}

TEST(CliBtfInput, MacrosFromAcceptedFilesHoldOnlyMacrosAndTheBaselineVerdicts) {
  if (!is_root()) GTEST_SKIP() << "verdicts need root";
  auto baseline = run_cli({"--macros"});
  ASSERT_EQ(baseline.code, 0) << baseline.err;
  expect_only_macros(baseline.out, "baseline");
  for (const char* file : {"ok-base-full.btf", "ok-elf-mini.elf"}) {
    auto r = run_cli({"--macros", "--btf", (corpus_dir / file).string()});
    ASSERT_EQ(r.code, 0) << file << ": " << r.err;
    expect_only_macros(r.out, file);
    if (std::string(file) == "ok-base-full.btf") {  // every program, map and helper name of the build
      EXPECT_EQ(type_and_helper_lines(r.out), type_and_helper_lines(baseline.out));
    }
  }
  for (const char* file : {"bad-name-prog-newline-error-suffix.btf", "bad-name-full-newline-error.btf",
                           "bad-name-elf-newline-error.elf", "bad-name-kfunc-newline-error.btf"}) {
    auto r = run_cli({"--macros", "--btf", (corpus_dir / file).string()});
    expect_rejected(r, file);
    EXPECT_NE(r.err.find("\\n#error injected"), std::string::npos) << r.err;
  }
}

TEST(CliBtfInput, JsonFromAcceptedFileParsesAndNonUtf8NamesAreRejected) {
  auto r = run_cli({"--json", "--btf", (corpus_dir / "ok-base-mini.btf").string()});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  std::set<std::string> progs;
  for (const auto& [k, v] : j["program_types"].items()) progs.insert(k);
  EXPECT_EQ(progs, (std::set<std::string>{"socket_filter", "sched_cls", "tracepoint", "xdp", "tracing", "syscall"}));
  for (const char* file : {"bad-name-map-non-utf8-whole.btf", "bad-name-kfunc-non-utf8.btf"})
    expect_rejected(run_cli({"--json", "--btf", (corpus_dir / file).string()}), file);
}

TEST(CliBtfInput, AbiMismatchNamesTheEnumTheNameAndBothValues) {
  auto renamed = run_cli({"--require", "prog:xdp", "--btf", (corpus_dir / "bad-abi-renamed-prog-xdp.btf").string()});
  expect_rejected(renamed, "renamed XDP");
  EXPECT_NE(renamed.err.find("enum bpf_prog_type: value 6 is BPF_PROG_TYPE_XDPX in this file but BPF_PROG_TYPE_XDP"),
            std::string::npos)
      << renamed.err;
  auto swapped = run_cli({"--require", "helper:sched_cls:bpf_skb_load_bytes", "--btf",
                          (corpus_dir / "bad-abi-swapped-prog-sched-cls-tracepoint.btf").string()});
  expect_rejected(swapped, "swapped sched_cls/tracepoint");
  EXPECT_NE(swapped.err.find("BPF_PROG_TYPE_SCHED_CLS is 5 in this file but 3"), std::string::npos) << swapped.err;
}

TEST(CliBtfInput, FilesThatAreNotRegularAreRefusedAtOnce) {
  temp_dir dir;
  ASSERT_EQ(mkfifo((dir / "fifo").c_str(), 0600), 0);
  // `timeout` turns a hang (the old blocking open) into exit 124 instead of a stuck test.
  auto fifo = run({"timeout", "20", cli_path(), "--btf", (dir / "fifo").string()});
  expect_rejected(fifo, "--btf FIFO");
  EXPECT_NE(fifo.err.find("is a FIFO, not a regular file"), std::string::npos) << fifo.err;
  auto d = run_cli({"--btf", dir.path().string()});
  expect_rejected(d, "--btf DIR");
  EXPECT_NE(d.err.find("EISDIR"), std::string::npos) << d.err;
  auto dev = run({"timeout", "20", cli_path(), "--btf", "/dev/zero"});
  expect_rejected(dev, "--btf /dev/zero");
}

TEST(CliBtfInput, OpenErrorsKeepTheirErrnoByName) {
  temp_dir dir;
  fs::create_symlink(dir / "b", dir / "a");
  fs::create_symlink(dir / "a", dir / "b");
  auto loop = run_cli({"--btf", (dir / "a").string()});
  expect_rejected(loop, "symlink loop");
  EXPECT_NE(loop.err.find("ELOOP"), std::string::npos) << loop.err;
  auto too_long = run_cli({"--btf", (dir / std::string(300, 'x')).string()});
  expect_rejected(too_long, "long name");
  EXPECT_NE(too_long.err.find("ENAMETOOLONG"), std::string::npos) << too_long.err;
  auto missing = run_cli({"--btf", (dir / "missing").string()});
  expect_rejected(missing, "missing");
  EXPECT_NE(missing.err.find("ENOENT"), std::string::npos) << missing.err;
  // A path with a newline prints escaped, on one line.
  auto nl = run_cli({"--btf", (dir / "x\n#error y").string()});
  expect_rejected(nl, "newline in path");
  EXPECT_NE(nl.err.find("x\\n#error y"), std::string::npos) << nl.err;
}

TEST(CliBtfInput, EmptyOptionValuesAreUsageErrors) {
  const std::vector<std::vector<std::string>> cases = {
      {"--btf", ""},        {"--require", ""},          {"--require", ","},
      {"--require", ",,"},  {"--require", "prog:xdp,"}, {"--require", ",prog:xdp"},
      {"--threads", ""},    {"--kfuncs", ""},           {"--require", "prog:xdp,,map:hash"},
      {"--btf=", "--json"}, {"--require=", "--macros"}};
  for (const auto& args : cases) {
    auto r = run_cli(args);
    std::string what = args[0] + " '" + args[1] + "'";
    EXPECT_EQ(r.code, 2) << what << "\nstdout: " << r.out.substr(0, 200) << "\nstderr: " << r.err;
    EXPECT_FALSE(r.err.empty()) << what;
    EXPECT_EQ(r.out.find("program_types"), std::string::npos) << what;
    EXPECT_EQ(r.out.find("Program types"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace bpfprobe::testing
