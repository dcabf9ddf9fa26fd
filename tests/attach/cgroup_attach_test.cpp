// cgroup_skb egress attached to a temporary cgroup v2 through every path. Proof: a child process
// moved into the cgroup sends UDP datagrams to the loopback and the counter moves by exactly that
// many; BPF_PROG_QUERY lists the program (and link info names the cgroup); after the attachment is
// dropped the query is empty and the counter stands still. Also: pins survive their process.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <chrono>
#include <thread>

#include "../common/pin_dir.hpp"
#include "common.hpp"

namespace bpfprobe::testing {
namespace {

// A child joins the cgroup (writing "0" to cgroup.procs moves the writer), sends `n` datagrams to
// 127.0.0.1:9 and exits. Only system calls between fork and _exit.
void send_from_cgroup(const std::string& cgroup_path, int n) {
  std::string procs = cgroup_path + "/cgroup.procs";
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int fd = ::open(procs.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ::write(fd, "0", 1) != 1) ::_exit(10);
    ::close(fd);
    int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) ::_exit(11);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(9);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < n; ++i)
      if (::sendto(s, "x", 1, 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 1) ::_exit(12);
    ::_exit(0);
  }
  int st = 0;
  ASSERT_EQ(::waitpid(pid, &st, 0), pid);
  ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "child status " << st;
}

// The program the tests attach: cgroup_skb egress, counting every packet in the map `map_fd`.
sys::result<sys::unique_fd> egress_program(int map_fd) {
  return load({.type = BPF_PROG_TYPE_CGROUP_SKB, .expected_attach_type = BPF_CGROUP_INET_EGRESS},
              counting_program(map_fd, 1));
}

class CgroupAttach : public ::testing::TestWithParam<std::string> {};

TEST_P(CgroupAttach, CountsEgressOfTheCgroupAndDetachesOnDrop) {
  BPFPROBE_REQUIRE_ROOT();
  auto choice = decide::cgroup(facts());
  BPFPROBE_REQUIRE_WANTED(want, choice, GetParam());

  auto cg = sys::temp_cgroup::create("bpfprobe-attach-test");
  ASSERT_TRUE(cg) << cg.error().describe();
  auto map = counter_map();
  auto prog = egress_program(map.get());
  ASSERT_TRUE(prog) << describe(prog.error());
  std::uint32_t id = prog_id(prog.value().get());

  attach::policy pol = forcing(GetParam());
  {
    auto a = attach::cgroup(choice, prog.value().get(), cg.value().fd(), BPF_CGROUP_INET_EGRESS, pol);
    ASSERT_TRUE(a) << a.error().describe();
    EXPECT_EQ(a.value().path(), want) << attempts_of(a.value());
    auto ids = sys::prog_query(cg.value().fd(), BPF_CGROUP_INET_EGRESS);
    ASSERT_TRUE(ids) << ids.error().describe();
    EXPECT_EQ(ids.value(), std::vector<std::uint32_t>{id});
    if (want == decide::path::bpf_link) {
      auto info = sys::link_info(a.value().fd());
      ASSERT_TRUE(info) << info.error().describe();
      EXPECT_EQ(info.value().type, BPF_LINK_TYPE_CGROUP);
      EXPECT_EQ(info.value().cgroup.cgroup_id, cg.value().id());
      EXPECT_EQ(info.value().cgroup.attach_type, BPF_CGROUP_INET_EGRESS);
    }
    send_from_cgroup(cg.value().path(), 3);
    EXPECT_EQ(counter(map), 3u) << "cgroup program did not see the child's datagrams";
  }
  auto ids = sys::prog_query(cg.value().fd(), BPF_CGROUP_INET_EGRESS);
  ASSERT_TRUE(ids) << ids.error().describe();
  EXPECT_TRUE(ids.value().empty()) << "still attached after drop";
  send_from_cgroup(cg.value().path(), 2);
  EXPECT_EQ(counter(map), 3u);
}

INSTANTIATE_TEST_SUITE_P(Paths, CgroupAttach,
                         ::testing::Values("", "bpf_link", "prog_attach_multi", "prog_attach_override"),
                         [](const auto& i) { return i.param.empty() ? std::string("chosen") : i.param; });

// A pin keeps a link attached after its process exits; removing the pin detaches it.
TEST(CgroupAttachPin, PinnedLinkSurvivesItsProcessAndGoesWithThePin) {
  BPFPROBE_REQUIRE_ROOT();
  auto choice = decide::cgroup(facts());
  BPFPROBE_REQUIRE_PATH(choice, "bpf_link");
  auto bpffs = pin_dir::open();
  ASSERT_TRUE(bpffs) << bpffs.error().describe();
  auto cg = sys::temp_cgroup::create("bpfprobe-attach-test");
  ASSERT_TRUE(cg) << cg.error().describe();
  auto map = counter_map();
  auto prog = egress_program(map.get());
  ASSERT_TRUE(prog) << describe(prog.error());
  std::string pin = bpffs.value().path() + "/bpfprobe-attach-test-" + std::to_string(::getpid());
  sys::scoped_pin cleanup(pin);

  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto a = attach::cgroup(choice, prog.value().get(), cg.value().fd(), BPF_CGROUP_INET_EGRESS,
                            attach::policy{}.pinned_at(pin));
    ::_exit(a && a.value().pinned() == pin ? 0 : 1);  // `a` is dropped by _exit: only the pin holds it
  }
  int st = 0;
  ASSERT_EQ(::waitpid(pid, &st, 0), pid);
  ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "child could not attach and pin";

  auto link = sys::obj_get(pin);
  ASSERT_TRUE(link) << link.error().describe();
  auto info = sys::link_info(link.value().get());
  ASSERT_TRUE(info) << info.error().describe();
  EXPECT_EQ(info.value().type, BPF_LINK_TYPE_CGROUP);
  std::uint32_t link_id = info.value().id;
  link.value().reset();
  send_from_cgroup(cg.value().path(), 2);
  EXPECT_EQ(counter(map), 2u) << "pinned link does not run after its process exited";

  ASSERT_TRUE(attach::unpin(pin));
  // The last reference is dropped asynchronously (deferred work).
  for (int i = 0; i < 200 && link_exists(link_id); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_FALSE(link_exists(link_id)) << "link still exists after unpinning";
  // The link's id goes before its deferred release detaches the program.
  auto ids = sys::prog_query(cg.value().fd(), BPF_CGROUP_INET_EGRESS);
  for (int i = 0; i < 200 && ids && !ids.value().empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ids = sys::prog_query(cg.value().fd(), BPF_CGROUP_INET_EGRESS);
  }
  ASSERT_TRUE(ids);
  EXPECT_TRUE(ids.value().empty());
  send_from_cgroup(cg.value().path(), 2);
  EXPECT_EQ(counter(map), 2u);
}

// Legacy paths cannot be pinned: with a pin requested they are skipped, and say why.
TEST(CgroupAttachPin, LegacyPathsAreSkippedWhenAPinIsRequested) {
  BPFPROBE_REQUIRE_ROOT();
  auto choice = decide::cgroup(facts());
  auto cg = sys::temp_cgroup::create("bpfprobe-attach-test");
  ASSERT_TRUE(cg) << cg.error().describe();
  auto prog = egress_program(counter_map().get());
  ASSERT_TRUE(prog) << describe(prog.error());
  auto a = attach::cgroup(choice, prog.value().get(), cg.value().fd(), BPF_CGROUP_INET_EGRESS,
                          attach::policy::only("prog_attach_multi").pinned_at("/sys/fs/bpf/never-made"));
  ASSERT_FALSE(a);
  EXPECT_NE(a.error().message.find("cannot be pinned"), std::string::npos) << a.error().describe();
  auto ids = sys::prog_query(cg.value().fd(), BPF_CGROUP_INET_EGRESS);
  ASSERT_TRUE(ids);
  EXPECT_TRUE(ids.value().empty());
}

// Explicit detach() reports errors and leaves the object empty.
TEST(CgroupAttachDetach, ExplicitDetach) {
  BPFPROBE_REQUIRE_ROOT();
  auto choice = decide::cgroup(facts());
  if (choice.chosen.empty()) GTEST_SKIP() << "no cgroup path supported";
  auto cg = sys::temp_cgroup::create("bpfprobe-attach-test");
  ASSERT_TRUE(cg) << cg.error().describe();
  auto prog = egress_program(counter_map().get());
  ASSERT_TRUE(prog) << describe(prog.error());
  for (const auto& cand : choice.candidates) {
    if (!cand.v.supported()) continue;
    auto a = attach::cgroup(choice, prog.value().get(), cg.value().fd(), BPF_CGROUP_INET_EGRESS,
                            attach::policy::only(cand.path));
    ASSERT_TRUE(a) << cand.path << ": " << a.error().describe();
    EXPECT_TRUE(a.value().attached());
    EXPECT_TRUE(a.value().detach()) << cand.path;
    EXPECT_FALSE(a.value().attached());
    auto ids = sys::prog_query(cg.value().fd(), BPF_CGROUP_INET_EGRESS);
    ASSERT_TRUE(ids);
    EXPECT_TRUE(ids.value().empty()) << cand.path << " still attached after detach()";
  }
}

}  // namespace
}  // namespace bpfprobe::testing
