// The persistent cache file is hostile input: only a whole, well-formed file made for exactly this key,
// owned by the caller and writable by nobody else, is read; everything else is ignored.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpfprobe/probe/persist.hpp>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

namespace bpfprobe::probe::persist {
namespace {

namespace fs = std::filesystem;

struct temp_dir {
  fs::path path;
  temp_dir() {
    std::string tmpl = (fs::temp_directory_path() / "bpfprobe-persist-XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

contents sample() {
  contents c;
  c.verdicts["prog_type/xdp"] = verdict::yes();
  c.verdicts["map_type/hash"] = verdict::no("rejected", EINVAL, "invalid argument");
  auto& r = c.report.emplace();
  r.names_source = "/sys/kernel/btf/vmlinux";
  r.kfunc_list_source = "bpf_kfunc decl tags";
  r.kfunc_names = {"bpf_rdonly_cast"};
  auto& s = r.sections.emplace_back();
  s.name = "program_types";
  fact f{"xdp", verdict::yes(), "4.8", "6a773a15a1e8"};
  f.attrs.emplace_back("value", "6");
  f.lists.emplace_back("attach_types", std::vector<std::string>{"xdp", "xdp_devmap"});
  s.facts = {f, fact{"lsm", verdict::unknown("EPERM")}};
  s.missing = {0, 0};
  return c;
}

void put(const fs::path& p, const std::string& bytes, mode_t mode = 0600) {
  {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << bytes;
  }
  ::chmod(p.c_str(), mode);
}

TEST(Persist, RoundTripKeepsConclusiveFactsAndMarksTheRestMissing) {
  auto bytes = serialize("k=1\n", sample());
  auto c = parse(bytes, "k=1\n");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->verdicts.size(), 2u);
  EXPECT_EQ(c->verdicts.at("map_type/hash").err, EINVAL);
  EXPECT_EQ(c->verdicts.at("map_type/hash").evidence, "invalid argument");
  ASSERT_TRUE(c->report);
  const auto* s = c->report->find("program_types");
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(s->facts.size(), 2u);
  EXPECT_EQ(s->facts[0].first_kernel, "4.8");
  EXPECT_EQ(s->facts[0].attrs.at(0).second, "6");
  EXPECT_EQ(s->facts[0].lists.at(0).second.at(1), "xdp_devmap");
  EXPECT_FALSE(s->missing[0]);
  // The unknown fact is stored as a place to probe again, without its verdict.
  EXPECT_TRUE(s->missing[1]);
  EXPECT_EQ(s->facts[1].name, "lsm");
  EXPECT_TRUE(s->facts[1].v.reason.empty());
}

TEST(Persist, UnknownVerdictsAreNeverWritten) {
  contents c;
  c.verdicts["a"] = verdict::unknown("not permitted", EPERM);
  c.verdicts["b"] = verdict::yes();
  auto bytes = serialize("k", c);
  EXPECT_EQ(bytes.find("not permitted"), std::string::npos);
  auto back = parse(bytes, "k");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->verdicts.count("a"), 0u);
  EXPECT_EQ(back->verdicts.count("b"), 1u);
}

// An unknown verdict is kept only when its cause is in the key: an EPERM of privileges or lockdown,
// and never one RLIMIT_MEMLOCK could explain. Transient ones (EAGAIN, ENOMEM, EBUSY, a missing mount) never.
TEST(Persist, AnUnknownIsWrittenOnlyWhenItsCauseIsInTheKey) {
  stable_causes lockdown{.lockdown = true, .lacks_capability = false, .memlock_unlimited = true};
  stable_causes unprivileged{.lockdown = false, .lacks_capability = true, .memlock_unlimited = true};
  stable_causes policy{.lockdown = false, .lacks_capability = false, .memlock_unlimited = true};
  stable_causes memlock{.lockdown = true, .lacks_capability = true, .memlock_unlimited = false};
  contents c;
  c.verdicts["eperm"] = verdict::unknown("not permitted", EPERM);
  for (int e : {EAGAIN, ENOMEM, EBUSY, ENOENT, EACCES, EINTR, 0})
    c.verdicts["transient/" + std::to_string(e)] = verdict::unknown("transient", e);
  c.verdicts["yes"] = verdict::yes();
  for (const auto& [causes, kept] : {std::pair{lockdown, true}, std::pair{unprivileged, true}, std::pair{policy, false},
                                     std::pair{memlock, false}}) {
    auto back = parse(serialize("k", c, causes), "k");
    ASSERT_TRUE(back);
    EXPECT_EQ(back->verdicts.count("eperm"), kept ? 1u : 0u);
    EXPECT_EQ(back->verdicts.count("yes"), 1u);
    EXPECT_EQ(back->verdicts.size(), kept ? 2u : 1u) << "a transient unknown was written";
    if (kept) {
      EXPECT_EQ(back->verdicts.at("eperm").state, status::unknown);
      EXPECT_EQ(back->verdicts.at("eperm").reason, "not permitted");
    }
  }
  // The same rule marks the report's facts: the unknown lsm fact of sample() is kept under lockdown.
  auto rep = parse(serialize("k", sample(), lockdown), "k");
  ASSERT_TRUE(rep && rep->report);
  EXPECT_TRUE(rep->report->find("program_types")->missing[1]) << "sample's lsm unknown has no errno";
  auto s = sample();
  s.report->sections[0].facts[1].v = verdict::unknown("not permitted", EPERM);
  rep = parse(serialize("k", s, lockdown), "k");
  ASSERT_TRUE(rep && rep->report);
  EXPECT_FALSE(rep->report->find("program_types")->missing[1]);
  EXPECT_EQ(rep->report->find("program_types")->facts[1].v.err, EPERM);
}

// A file is hostile: an unknown verdict with any other errno is something no writer makes.
TEST(Persist, AStoredUnknownOtherThanEpermIsCorrupt) {
  contents c;
  c.verdicts["a"] = verdict::unknown("not permitted", EPERM);
  stable_causes lockdown{.lockdown = true, .lacks_capability = false, .memlock_unlimited = true};
  auto bytes = serialize("k", c, lockdown);
  ASSERT_TRUE(parse(bytes, "k"));
  const std::string eperm_unknown{"\x02\x01\x00\x00\x00", 5};
  auto at = bytes.find(eperm_unknown);
  ASSERT_NE(at, std::string::npos);
  bytes[at + 1] = static_cast<char>(EAGAIN);
  EXPECT_FALSE(parse(bytes, "k"));
}

// The key names lockdown: a file written under one lockdown level is not read under another.
TEST(Persist, AnotherLockdownIsAnotherKey) {
  auto key = cache_key({});
  auto at = key.find("\nlockdown=");
  ASSERT_NE(at, std::string::npos);
  auto end = key.find('\n', at + 1);
  auto other = key.substr(0, at) + "\nlockdown=none integrity [confidentiality]" + key.substr(end);
  ASSERT_NE(other, key);
  contents c;
  c.verdicts["a"] = verdict::unknown("not permitted", EPERM);
  auto bytes = serialize(key, c, {.lockdown = true, .lacks_capability = false, .memlock_unlimited = true});
  EXPECT_TRUE(parse(bytes, key));
  EXPECT_FALSE(parse(bytes, other));
  EXPECT_NE(file_for("/d", key), file_for("/d", other));
}

TEST(Persist, AFileForAnotherKeyIsIgnored) {
  auto bytes = serialize("release=6.18\ncatalog=aaaa\n", sample());
  EXPECT_FALSE(parse(bytes, "release=6.19\ncatalog=aaaa\n"));
  EXPECT_FALSE(parse(bytes, "release=6.18\ncatalog=bbbb\n"));
  EXPECT_TRUE(parse(bytes, "release=6.18\ncatalog=aaaa\n"));
}

TEST(Persist, EveryTruncationIsRejected) {
  auto bytes = serialize("k", sample());
  for (std::size_t n = 0; n < bytes.size(); ++n) EXPECT_FALSE(parse(std::string_view(bytes).substr(0, n), "k")) << n;
  EXPECT_FALSE(parse(bytes + "x", "k"));  // trailing bytes too
}

TEST(Persist, FlippedBytesAndGarbageNeverCrash) {
  auto bytes = serialize("k", sample());
  std::mt19937 rng(13);
  std::size_t accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string b = bytes;
    for (int j = 0; j < 3; ++j) b[rng() % b.size()] = static_cast<char>(rng());
    accepted += parse(b, "k").has_value();  // whatever parses must be bounded and well-formed
  }
  for (int i = 0; i < 2000; ++i) {
    std::string g(rng() % 512, '\0');
    for (auto& c : g) c = static_cast<char>(rng());
    if (i % 2) g.replace(0, std::min<std::size_t>(g.size(), 20), bytes.substr(0, 20));
    EXPECT_FALSE(parse(g, "k"));
  }
  SUCCEED() << accepted << " mutated files still parsed";
}

TEST(Persist, HugeCountsAreRejectedWithoutAllocating) {
  auto bytes = serialize("k", contents{});
  // The verdict count follows the (empty) string table: claim four billion verdicts.
  std::string head(magic, sizeof magic);
  std::uint32_t v = schema, klen = 1, nstr = 0, nverd = 0xffffffffu;
  head.append(reinterpret_cast<const char*>(&v), 4);
  head.append(reinterpret_cast<const char*>(&klen), 4);
  head += "k";
  head.append(reinterpret_cast<const char*>(&nstr), 4);
  head.append(reinterpret_cast<const char*>(&nverd), 4);
  EXPECT_FALSE(parse(head + std::string(64, '\0'), "k"));
  // An unknown state byte in the verdict map is corrupt, not "unknown".
  contents c;
  c.verdicts["a"] = verdict::yes();
  auto ok = serialize("k", c);
  auto state_at = ok.size() - 1 /*has_report*/ - 1 /*has_value*/ - 4 - 4 - 4 - 1;
  ASSERT_EQ(ok[state_at], 0);
  ok[state_at] = 2;
  EXPECT_FALSE(parse(ok, "k"));
}

// A measured value (calibration) is kept, negative and 64-bit ones too; a verdict without one stays
// without; a has-value byte other than 0/1 is corrupt.
TEST(Persist, MeasuredValuesRoundTrip) {
  contents c;
  verdict big = verdict::yes({}, "ran 1x");
  big.value = 1796596037245148703ll;
  verdict negative = verdict::no("cookie reads back wrong");
  negative.value = -1;
  c.verdicts["calib/ktime_offset"] = big;
  c.verdicts["calib/uprobe_cookie"] = negative;
  c.verdicts["misc/bounded_loops"] = verdict::yes();
  auto back = parse(serialize("k", c), "k");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->verdicts.at("calib/ktime_offset").value, big.value);
  EXPECT_EQ(back->verdicts.at("calib/uprobe_cookie").value, std::optional<std::int64_t>(-1));
  EXPECT_FALSE(back->verdicts.at("misc/bounded_loops").value);

  contents one;
  one.verdicts["a"] = verdict::yes();
  auto bytes = serialize("k", one);
  auto has_value_at = bytes.size() - 1 /*has_report*/ - 1;
  ASSERT_EQ(bytes[has_value_at], 0);
  bytes[has_value_at] = 2;
  EXPECT_FALSE(parse(bytes, "k"));
}

TEST(Persist, OnlyPrivateRegularFilesOfTheCallerAreRead) {
  temp_dir d;
  auto bytes = serialize("k", sample());
  auto good = d.path / "good.cache";
  put(good, bytes);
  EXPECT_TRUE(load(good, "k"));

  auto world = d.path / "world.cache";
  put(world, bytes, 0606);
  EXPECT_FALSE(load(world, "k"));
  auto group = d.path / "group.cache";
  put(group, bytes, 0620);
  EXPECT_FALSE(load(group, "k"));

  auto link = d.path / "link.cache";
  fs::create_symlink(good, link);
  EXPECT_FALSE(load(link, "k"));

  auto fifo = d.path / "fifo.cache";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_FALSE(load(fifo, "k"));  // and does not block

  fs::create_directory(d.path / "dir.cache");
  EXPECT_FALSE(load(d.path / "dir.cache", "k"));
  EXPECT_FALSE(load(d.path / "absent.cache", "k"));

  if (::geteuid() == 0) {
    auto other = d.path / "other.cache";
    put(other, bytes);
    ASSERT_EQ(::chown(other.c_str(), 65534, 65534), 0);
    EXPECT_FALSE(load(other, "k"));
  }
}

TEST(Persist, StoreWritesAPrivateFileAndReplacesASymlinkWithoutFollowingIt) {
  temp_dir d;
  auto file = d.path / "sub" / "x.cache";
  ASSERT_TRUE(store(file, serialize("k", sample())));
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(file.parent_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_TRUE(load(file, "k"));

  auto victim = d.path / "victim";
  put(victim, "keep me");
  auto link = d.path / "sub" / "y.cache";
  fs::create_symlink(victim, link);
  ASSERT_TRUE(store(link, serialize("k", sample())));
  EXPECT_FALSE(fs::is_symlink(link));
  std::ifstream in(victim);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "keep me");
  // No temporary file is left behind.
  for (const auto& e : fs::directory_iterator(d.path / "sub"))
    EXPECT_FALSE(e.path().filename().string().starts_with(temp_prefix)) << e.path();
}

// A writer killed between creating its temporary file and renaming it leaves nothing: the file size
// limit makes the kernel kill the child (SIGXFSZ) in the middle of writing the temporary file; the
// janitor the claim started removes it.
TEST(Persist, AWriterKilledWhileWritingLeavesNoTemporaryFile) {
  temp_dir d;
  pid_t child = fork();
  if (child == 0) {
    rlimit small{4096, 4096};
    setrlimit(RLIMIT_FSIZE, &small);
    (void)store(d.path / "x.cache", std::string(1 << 20, 'x'));
    _exit(0);  // not reached: SIGXFSZ ends the process at the write past the limit
  }
  ASSERT_GT(child, 0);
  int st = 0;
  ASSERT_EQ(waitpid(child, &st, 0), child);
  ASSERT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGXFSZ) << "the writer was not killed mid-write: " << st;
  auto temps = [&] {
    int n = 0;
    for (const auto& e : fs::directory_iterator(d.path)) n += e.path().filename().string().starts_with(temp_prefix);
    return n;
  };
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (temps() != 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(temps(), 0);
  EXPECT_FALSE(fs::exists(d.path / "x.cache"));
}

// A temporary file a killed writer left (its owner is gone) is swept by the next store; one of a
// live writer stays.
TEST(Persist, StoreSweepsTemporaryFilesOfWritersThatAreGone) {
  temp_dir d;
  pid_t child = fork();
  if (child == 0) _exit(0);
  ASSERT_GT(child, 0);
  int st = 0;
  ASSERT_EQ(waitpid(child, &st, 0), child);
  auto dead = d.path / (std::string(temp_prefix) + std::to_string(child) + "-12345-aa");
  auto live = d.path / (std::string(temp_prefix) + sys::janitor::owner_tag() + "-bb");
  put(dead, "half a file");
  put(live, "being written");
  ASSERT_TRUE(store(d.path / "x.cache", serialize("k", sample())));
  EXPECT_FALSE(fs::exists(dead));
  EXPECT_TRUE(fs::exists(live));
}

TEST(Persist, AGroupOrWorldWritableDirectoryIsNotUsed) {
  temp_dir d;
  auto open = d.path / "open";
  fs::create_directory(open);
  ::chmod(open.c_str(), 0777);
  EXPECT_FALSE(store(open / "x.cache", serialize("k", sample())));
  EXPECT_FALSE(fs::exists(open / "x.cache"));
}

TEST(Persist, WritersAtOnceLeaveOneWholeFile) {
  temp_dir d;
  auto file = d.path / "x.cache";
  std::vector<pid_t> kids;
  for (int k = 0; k < 4; ++k) {
    pid_t pid = fork();
    if (pid == 0) {
      contents c = sample();
      c.verdicts["writer/" + std::to_string(k)] = verdict::yes();
      bool ok = true;
      for (int i = 0; i < 200; ++i) ok = store(file, serialize("k", c)) && ok;
      _exit(ok ? 0 : 1);
    }
    kids.push_back(pid);
  }
  // Meanwhile every read sees a whole file or none.
  for (int i = 0; i < 500; ++i)
    if (fs::exists(file)) {
      EXPECT_TRUE(load(file, "k"));
    }
  for (pid_t pid : kids) {
    int st = 0;
    waitpid(pid, &st, 0);
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  }
  EXPECT_TRUE(load(file, "k"));
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(d.path)) ++entries;
  EXPECT_EQ(entries, 1u);
}

TEST(Persist, KeyNamesKernelPrivilegesCatalogAndOptions) {
  options o;
  auto k = cache_key(o);
  EXPECT_TRUE(k.starts_with("schema="));
  for (const char* field : {"catalog=", "release=", "build_id=", "btf=", "boot_id=", "euid=", "caps=", "lockdown=",
                            "unprivileged_bpf_disabled="})
    EXPECT_NE(k.find(std::string("\n") + field), std::string::npos) << field;
  EXPECT_EQ(k.find("catalog=unversioned"), std::string::npos) << "the build generates the catalog version";
  options full = o;
  full.kfunc_prog_types = true;
  EXPECT_NE(cache_key(full), k);
  EXPECT_NE(file_for("/d", cache_key(full)), file_for("/d", k));
  if (::access("/sys/kernel/notes", R_OK) == 0) {
    EXPECT_EQ(k.find("build_id=\n"), std::string::npos);
  }
}

TEST(Persist, AnotherUserOrFewerCapabilitiesIsAnotherKey) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to change the privileges in a child";
  auto mine = cache_key({});
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  if (pid == 0) {
    if (setresuid(65534, 65534, 65534) != 0) _exit(2);
    auto theirs = cache_key({});
    (void)!write(fds[1], theirs.data(), theirs.size());
    _exit(0);
  }
  close(fds[1]);
  std::string theirs;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) theirs.append(buf, static_cast<std::size_t>(n));
  close(fds[0]);
  int st = 0;
  waitpid(pid, &st, 0);
  ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  EXPECT_NE(theirs, mine);
  EXPECT_NE(theirs.find("euid=65534"), std::string::npos);
  EXPECT_NE(theirs.find("caps=0000000000000000"), std::string::npos);
}

}  // namespace
}  // namespace bpfprobe::probe::persist
