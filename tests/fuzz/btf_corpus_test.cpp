// Replays the crafted and corrupt BTF corpus (tests/fuzz/corpus/btf, made by make-btf-corpus.py)
// through the path `--btf FILE` takes: open, check (btf::open_checked), then the names the probes
// and the report would use. A file named ok-* must be accepted, bad-* rejected, any-* either; an
// accepted file yields only C identifiers and the build's values for every enum name the build knows.
#include <gtest/gtest.h>

#include <algorithm>
#include <bpfprobe/bpfprobe.hpp>
#include <chrono>
#include <filesystem>
#include <map>

#include "btf_replay.hpp"

#ifndef BPFPROBE_CORPUS_DIR
#error "BPFPROBE_CORPUS_DIR must name tests/fuzz/corpus/btf"
#endif

namespace bpfprobe::testing {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> corpus() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(BPFPROBE_CORPUS_DIR)) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

// The running kernel's BTF when it has one: the CLI checks --btf against it too.
const btf::kernel_btf* running_kernel() {
  static const std::optional<btf::kernel_btf> k = [] {
    auto r = btf::kernel_btf::open();
    return r ? std::optional<btf::kernel_btf>(std::move(r).value()) : std::nullopt;
  }();
  return k ? &*k : nullptr;
}

TEST(BtfCorpus, IsLargeAndSmall) {
  auto files = corpus();
  std::map<std::string, int> kinds;
  std::uintmax_t bytes = 0;
  for (const auto& p : files) {
    ++kinds[p.filename().string().substr(0, p.filename().string().find('-'))];
    bytes += fs::file_size(p);
  }
  EXPECT_GE(files.size(), 300u);
  EXPECT_GE(kinds["ok"], 10);
  EXPECT_GE(kinds["bad"], 200);
  EXPECT_EQ(kinds["ok"] + kinds["bad"] + kinds["any"], static_cast<int>(files.size())) << "a name without ok/bad/any";
  EXPECT_LT(bytes, 1024u * 1024u);
}

TEST(BtfCorpus, ReplaysCleanly) {
  int accepted = 0, rejected = 0;
  for (const auto& p : corpus()) {
    std::string name = p.filename().string();
    auto start = std::chrono::steady_clock::now();
    auto k = btf::open_checked(p, running_kernel());
    std::vector<std::string> problems;
    if (k) problems = problems_of_accepted(k.value());
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    EXPECT_LT(ms, 5000) << name << " took " << ms << " ms";
    if (k) {
      ++accepted;
      EXPECT_FALSE(name.starts_with("bad-")) << name << " was accepted";
      for (const auto& pr : problems) ADD_FAILURE() << name << ": " << pr;
    } else {
      ++rejected;
      std::string msg = k.error().describe();
      EXPECT_FALSE(name.starts_with("ok-")) << name << " was rejected: " << msg;
      EXPECT_TRUE(printable_line(msg)) << name << ": message not one printable line: " << btf::escape(msg, 400);
    }
  }
  EXPECT_GT(accepted, 10);
  EXPECT_GT(rejected, 200);
}

std::string rejection(const std::string& file) {
  auto k = btf::open_checked(fs::path(BPFPROBE_CORPUS_DIR) / file, running_kernel());
  return k ? std::string("(accepted)") : k.error().describe();
}

TEST(BtfCorpus, MessagesNameTheEnumTheNameAndBothValues) {
  std::string renamed = rejection("bad-abi-renamed-prog-xdp.btf");
  EXPECT_NE(renamed.find("enum bpf_prog_type: value 6 is BPF_PROG_TYPE_XDPX in this file but BPF_PROG_TYPE_XDP"),
            std::string::npos)
      << renamed;
  std::string swapped = rejection("bad-abi-swapped-prog-sched-cls-tracepoint.btf");
  EXPECT_NE(swapped.find("enum bpf_prog_type: BPF_PROG_TYPE_SCHED_CLS is 5 in this file but 3 in"), std::string::npos)
      << swapped;
  std::string helper = rejection("bad-abi-changed-helper-redirect.btf");
  EXPECT_NE(helper.find("enum bpf_func_id: BPF_FUNC_redirect is 24 in this file but 23 in"), std::string::npos)
      << helper;
  std::string alias = rejection("bad-abi-changed-deprecated-alias.btf");
  EXPECT_NE(alias.find("BPF_MAP_TYPE_CGROUP_STORAGE_DEPRECATED is 20 in this file but 19"), std::string::npos) << alias;
  std::string injected = rejection("bad-name-prog-newline-error-suffix.btf");
  EXPECT_NE(injected.find("enumerator \"BPF_PROG_TYPE_XDP\\n#error injected\\n\" is not a C identifier"),
            std::string::npos)
      << injected;
  std::string utf8 = rejection("bad-name-map-non-utf8-whole.btf");
  EXPECT_NE(utf8.find("\"\\xff\\xfeA\""), std::string::npos) << utf8;
  std::string kfunc = rejection("bad-name-kfunc-newline-error.btf");
  EXPECT_NE(kfunc.find("bpf_rdonly_cast\\n#error"), std::string::npos) << kfunc;
}

TEST(BtfNames, Identifiers) {
  EXPECT_TRUE(btf::is_identifier("BPF_PROG_TYPE_XDP"));
  EXPECT_TRUE(btf::is_identifier("_x9"));
  EXPECT_TRUE(btf::is_identifier(std::string(btf::max_name_len, 'a')));
  EXPECT_FALSE(btf::is_identifier(std::string(btf::max_name_len + 1, 'a')));
  for (std::string_view bad : {"", "9a", "a b", "a\n#error x", "a\"", "a\\b", "a-b", "\xc3\xa9", "a.b"})
    EXPECT_FALSE(btf::is_identifier(bad)) << btf::escape(bad);
  EXPECT_TRUE(btf::is_type_words("long long unsigned int"));
  EXPECT_FALSE(btf::is_type_words("long  int"));
  EXPECT_FALSE(btf::is_type_words(" int"));
  EXPECT_FALSE(btf::is_type_words("int "));
  EXPECT_EQ(btf::escape("a\n\"b\\\xff"), "a\\n\\\"b\\\\\\xff");
}

TEST(BtfNames, RunningKernelBtfPassesTheChecks) {
  if (!running_kernel()) GTEST_SKIP() << "no " << btf::vmlinux_path;
  auto bad = btf::find_bad_name(*running_kernel());
  EXPECT_FALSE(bad) << *bad;
  auto abi = btf::check_abi(*running_kernel(), running_kernel());
  EXPECT_FALSE(abi) << *abi;
}

}  // namespace
}  // namespace bpfprobe::testing
