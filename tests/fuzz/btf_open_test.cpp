// The file rules of --btf: only a regular file is read (a FIFO, directory or device is refused at
// once, never waited on), and every open error keeps its own errno, printed by name.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpfprobe/bpfprobe.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>

namespace bpfprobe::testing {
namespace {

namespace fs = std::filesystem;

class scratch {
 public:
  scratch() {
    std::string tmpl = (fs::temp_directory_path() / "bpfprobe-btf-open-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp");
    dir_ = tmpl;
  }
  ~scratch() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path operator/(const std::string& n) const { return dir_ / n; }

 private:
  fs::path dir_;
};

sys::error open_error(const fs::path& p) {
  auto k = btf::kernel_btf::open(p);
  EXPECT_FALSE(k) << p << " was accepted";
  return k ? sys::error{} : k.error();
}

TEST(BtfOpen, FifoIsRefusedWithoutWaiting) {
  scratch s;
  ASSERT_EQ(mkfifo((s / "fifo").c_str(), 0600), 0);
  auto start = std::chrono::steady_clock::now();
  auto e = open_error(s / "fifo");  // no writer: a blocking open() would never return
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_NE(e.describe().find("is a FIFO, not a regular file"), std::string::npos) << e.describe();
}

TEST(BtfOpen, DirectoryAndDevicesAreRefused) {
  scratch s;
  fs::create_directory(s / "dir");
  auto dir = open_error(s / "dir");
  EXPECT_EQ(dir.code, EISDIR);
  EXPECT_NE(dir.describe().find("EISDIR"), std::string::npos) << dir.describe();
  auto dev = open_error("/dev/null");
  EXPECT_NE(dev.describe().find("is a character device"), std::string::npos) << dev.describe();
  if (fs::exists("/dev/zero")) {  // would read forever if it were read like a file
    auto zero = open_error("/dev/zero");
    EXPECT_NE(zero.describe().find("character device"), std::string::npos) << zero.describe();
  }
}

TEST(BtfOpen, EachOpenErrorKeepsItsErrno) {
  scratch s;
  auto missing = open_error(s / "missing");
  EXPECT_EQ(missing.code, ENOENT);
  EXPECT_NE(missing.describe().find("ENOENT"), std::string::npos) << missing.describe();

  fs::create_symlink(s / "loop-b", s / "loop-a");
  fs::create_symlink(s / "loop-a", s / "loop-b");
  auto loop = open_error(s / "loop-a");
  EXPECT_EQ(loop.code, ELOOP);
  EXPECT_NE(loop.describe().find("ELOOP"), std::string::npos) << loop.describe();

  auto too_long = open_error(s / std::string(300, 'x'));
  EXPECT_EQ(too_long.code, ENAMETOOLONG);
  EXPECT_NE(too_long.describe().find("ENAMETOOLONG"), std::string::npos) << too_long.describe();

  std::ofstream(s / "file") << "x";
  auto not_dir = open_error(s / "file" / "below");
  EXPECT_EQ(not_dir.code, ENOTDIR);
  EXPECT_NE(not_dir.describe().find("ENOTDIR"), std::string::npos) << not_dir.describe();
}

TEST(BtfOpen, UnreadableFileIsEacces) {
  scratch s;
  std::ofstream(s / "secret") << "x";
  fs::permissions(s / "secret", fs::perms::owner_read | fs::perms::owner_write);
  chmod((s / "secret").parent_path().c_str(), 0755);
  // Root reads anything: try as nobody in a child (the errno comes back as the exit status).
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(200);
    auto k = btf::kernel_btf::open(s / "secret");
    _exit(k ? 0 : k.error().code == EACCES && k.error().describe().find("EACCES") != std::string::npos ? 1 : 2);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  ASSERT_TRUE(WIFEXITED(st));
  if (WEXITSTATUS(st) == 200) GTEST_SKIP() << "cannot switch to uid 65534";
  if (WEXITSTATUS(st) == 0 && geteuid() != 0) GTEST_SKIP() << "the file was readable (CAP_DAC_OVERRIDE?)";
  EXPECT_EQ(WEXITSTATUS(st), 1) << "an unreadable file did not give EACCES by name";
}

TEST(BtfOpen, ErrnosPrintByName) {
  EXPECT_EQ(sys::errno_name(ENODATA), "ENODATA");  // was "61"
  EXPECT_EQ(sys::errno_name(ENAMETOOLONG), "ENAMETOOLONG");
  EXPECT_EQ(sys::errno_name(EISDIR), "EISDIR");
  EXPECT_EQ(sys::errno_name(EOPNOTSUPP), "EOPNOTSUPP");
  EXPECT_EQ(sys::errno_name(524), "ENOTSUPP");
  EXPECT_EQ(sys::errno_name(100000), "100000");
}

}  // namespace
}  // namespace bpfprobe::testing
