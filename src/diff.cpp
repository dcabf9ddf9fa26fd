// `bpfprobe diff A.json B.json`: what changed between two `--json` reports (two hosts, two kernels,
// before and after an upgrade): facts only one has, and facts whose status differs, with reasons.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>

#include "render.hpp"

namespace bpfprobe::cli {
namespace {

struct fact_state {
  std::string status, reason;
};

// Reads a report file: a regular file of at most 256 MiB holding a JSON object.
std::variant<nlohmann::json, std::string> read_report(const std::string& path) {
  std::string shown = btf::escape(path, 200);
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return shown + ": " + sys::errno_name(errno);
  sys::unique_fd guard(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) return shown + ": " + sys::errno_name(errno);
  if (!S_ISREG(st.st_mode)) return shown + ": not a regular file";
  if (st.st_size > (256ll << 20)) return shown + ": larger than 256 MiB";
  std::string text;
  char buf[65536];
  for (ssize_t n; (n = ::read(fd, buf, sizeof(buf))) != 0;) {
    if (n < 0) return shown + ": " + sys::errno_name(errno);
    text.append(buf, static_cast<std::size_t>(n));
  }
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return shown + ": not a bpfprobe --json report (JSON object expected)";
  return j;
}

// Every fact of a report: "section/name" (helpers "helpers/<type>/<helper>", attach hooks
// "attach/<hook>" with the chosen path as status) -> status and reason.
std::map<std::string, fact_state> facts_of(const nlohmann::json& report) {
  std::map<std::string, fact_state> out;
  auto add = [&](const std::string& key, const nlohmann::json& f) {
    if (!f.is_object() || !f.contains("status") || !f["status"].is_string()) return;
    auto reason = f.contains("reason") && f["reason"].is_string() ? f["reason"].get<std::string>() : "";
    out[key] = {f["status"].get<std::string>(), reason};
  };
  for (const auto& [section, body] : report.items()) {
    if (section == "kernel" || !body.is_object()) continue;
    for (const auto& [name, f] : body.items()) {
      if (section == "helpers" && f.is_object()) {
        for (const auto& [helper, hf] : f.items()) add("helpers/" + name + "/" + helper, hf);
      } else if (section == "attach" && f.is_object() && f.contains("chosen")) {
        out["attach/" + name] = {f["chosen"].is_string() ? "path " + f["chosen"].get<std::string>() : "no path", ""};
      } else {
        add(section + "/" + name, f);
      }
    }
  }
  return out;
}

std::string kernel_of(const nlohmann::json& report) {
  if (report.contains("kernel") && report["kernel"].is_object() && report["kernel"].contains("release") &&
      report["kernel"]["release"].is_string())
    return report["kernel"]["release"].get<std::string>();
  return "?";
}

std::string describe(const fact_state& f) {
  return f.reason.empty() || f.status == "supported" ? f.status : f.status + " (" + f.reason + ")";
}

}  // namespace

int diff_reports(std::ostream& out, std::ostream& err, const std::string& a_path, const std::string& b_path) {
  auto a = read_report(a_path), b = read_report(b_path);
  for (const auto* r : {&a, &b})
    if (auto* e = std::get_if<std::string>(r)) {
      err << "bpfprobe diff: " << *e << '\n';
      return exit_usage;
    }
  const auto& ja = std::get<nlohmann::json>(a);
  const auto& jb = std::get<nlohmann::json>(b);
  auto fa = facts_of(ja), fb = facts_of(jb);
  if (fa.empty() || fb.empty()) {
    err << "bpfprobe diff: " << btf::escape(fa.empty() ? a_path : b_path, 200) << ": no facts in this report\n";
    return exit_usage;
  }
  out << "A: " << btf::escape(a_path, 200) << " (kernel " << btf::escape(kernel_of(ja), 80) << ", " << fa.size()
      << " facts)\nB: " << btf::escape(b_path, 200) << " (kernel " << btf::escape(kernel_of(jb), 80) << ", "
      << fb.size() << " facts)\n";
  std::size_t only_a = 0, only_b = 0, changed = 0;
  for (const auto& [key, f] : fa) {
    auto it = fb.find(key);
    if (it == fb.end()) {
      out << "- " << btf::escape(key, 200) << ": only in A: " << btf::escape(describe(f), 300) << '\n';
      ++only_a;
    } else if (it->second.status != f.status) {
      out << "~ " << btf::escape(key, 200) << ": " << btf::escape(describe(f), 300) << " -> "
          << btf::escape(describe(it->second), 300) << '\n';
      ++changed;
    }
  }
  for (const auto& [key, f] : fb)
    if (!fa.contains(key)) {
      out << "+ " << btf::escape(key, 200) << ": only in B: " << btf::escape(describe(f), 300) << '\n';
      ++only_b;
    }
  out << changed << " changed, " << only_a << " only in A, " << only_b << " only in B\n";
  return changed + only_a + only_b == 0 ? exit_ok : exit_unsupported;
}

}  // namespace bpfprobe::cli
