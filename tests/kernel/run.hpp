// Test helpers for the kernel tests: run a program and capture its output, temp dirs, JSON reports.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#ifndef BPFPROBE_CLI
#error "BPFPROBE_CLI must name the built bpfprobe binary"
#endif

namespace bpfprobe::testing {

// The CLI under test: $BPFPROBE_CLI overrides the path compiled in.
inline std::string cli_path() {
  if (const char* env = std::getenv("BPFPROBE_CLI"); env && *env) return env;
  return BPFPROBE_CLI;
}

inline bool is_root() { return geteuid() == 0; }

struct run_result {
  int code = -1;  // exit status, or 128+signal when killed
  std::string out, err;
};

// In a child before exec: "K=V" entries of `env` are set, "K" alone unsets K.
inline void apply_env(const std::vector<std::string>& env) {
  for (const auto& e : env) {
    auto eq = e.find('=');
    if (eq == std::string::npos)
      unsetenv(e.c_str());
    else
      setenv(e.substr(0, eq).c_str(), e.substr(eq + 1).c_str(), 1);
  }
}

// argv for execv/execvp: pointers into `argv` (which must outlive the call), then nullptr.
inline std::vector<char*> exec_args(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (const auto& a : argv) out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

// Runs argv (argv[0] is looked up in PATH when it has no '/'), with stdout/stderr captured and stdin
// from /dev/null. `env` entries "K=V" are set in the child and "K" alone unsets K.
inline run_result run(const std::vector<std::string>& argv, const std::vector<std::string>& env = {}) {
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    throw std::runtime_error("pipe");
  }
  auto args = exec_args(argv);
  pid_t pid = fork();
  if (pid == 0) {
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    apply_env(env);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  run_result r;
  if (pid < 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    throw std::runtime_error("fork");
  }
  std::array<pollfd, 2> fds{{{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}}};
  std::array<std::string*, 2> sinks{&r.out, &r.err};
  int open_fds = 2;
  char buf[65536];
  while (open_fds > 0) {
    if (poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof(buf));
      if (n > 0) {
        sinks[i]->append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return r;
}

// The CLI with `args`.
inline run_result run_cli(std::vector<std::string> args, const std::vector<std::string>& env = {}) {
  args.insert(args.begin(), cli_path());
  return run(args, env);
}

// `bpfprobe --json [extra]`, parsed; throws when the CLI fails or prints no JSON.
inline nlohmann::json run_cli_json(std::vector<std::string> extra) {
  extra.insert(extra.begin(), "--json");
  auto r = run_cli(extra);
  if (r.code != 0) throw std::runtime_error("bpfprobe --json exited " + std::to_string(r.code) + ": " + r.err);
  return nlohmann::json::parse(r.out);
}

// As run_cli_json, but the plain report (no extra arguments) is computed once per test process: the
// kernel does not change between tests, and a full report takes seconds under TCG in the matrix.
inline nlohmann::json cli_json(std::vector<std::string> extra = {}) {
  if (!extra.empty()) return run_cli_json(std::move(extra));
  static const nlohmann::json plain = run_cli_json({});
  return plain;
}

// A private directory removed with everything in it.
class temp_dir {
 public:
  temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "bpfprobe-test-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp");
    path_ = tmpl;
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
  [[nodiscard]] std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline void write_file(const std::filesystem::path& p, const void* data, std::size_t size) {
  std::ofstream out(p, std::ios::binary);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out) throw std::runtime_error("cannot write " + p.string());
}

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Every fact of a report as "section/name" (helpers: "helpers/<type>/<helper>") → its JSON object.
inline std::vector<std::pair<std::string, const nlohmann::json*>> all_facts(const nlohmann::json& report) {
  std::vector<std::pair<std::string, const nlohmann::json*>> out;
  for (const auto& [section, body] : report.items()) {
    if (section == "kernel" || !body.is_object()) continue;
    for (const auto& [name, f] : body.items()) {
      if (section == "helpers") {
        for (const auto& [helper, hf] : f.items()) out.emplace_back("helpers/" + name + "/" + helper, &hf);
      } else if (f.is_object() && f.contains("status")) {
        out.emplace_back(section + "/" + name, &f);
      }
    }
  }
  return out;
}

}  // namespace bpfprobe::testing
