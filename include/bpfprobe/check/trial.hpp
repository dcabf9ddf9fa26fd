// Trial load: each program loaded alone (the object's other programs' autoload off), never
// attached, in its own bpf_object so programs load in parallel; everything is closed before the
// thread ends. Maps pinned by name are pinned as libbpf would, but into a private bpffs instance
// mounted nowhere (sys::detached_mount), whose pins go with its fd, also when we are killed. libbpf's messages and the
// verifier log become the verdict through the classify table, with the deciding line as evidence.
#pragma once

#include <bpf/libbpf.h>

#include <atomic>
#include <bpfprobe/check/model.hpp>
#include <bpfprobe/probe/classify.hpp>
#include <bpfprobe/probe/parallel.hpp>
#include <bpfprobe/probe/privilege.hpp>
#include <bpfprobe/sys/detached_mount.hpp>
#include <cstdarg>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace bpfprobe::objcheck {

namespace detail {
inline thread_local std::string* libbpf_capture = nullptr;

// The print function that was set before the trial: messages of other threads go there.
inline std::atomic<libbpf_print_fn_t> previous_print{nullptr};

inline int capture_print(enum libbpf_print_level level, const char* fmt, va_list args) {
  if (!libbpf_capture) {
    libbpf_print_fn_t prev = previous_print.load();
    return prev ? prev(level, fmt, args) : 0;
  }
  if (level == LIBBPF_DEBUG) return 0;
  // Whole messages: a verifier log libbpf prints for a program without a log buffer of ours ends
  // with the line that decides.
  va_list again;
  va_copy(again, args);
  char buf[1024];
  int n = std::vsnprintf(buf, sizeof(buf), fmt, args);
  if (n > 0 && static_cast<std::size_t>(n) < sizeof(buf)) {
    libbpf_capture->append(buf, static_cast<std::size_t>(n));
  } else if (n > 0) {
    std::string big(std::min<std::size_t>(static_cast<std::size_t>(n), std::size_t{1} << 22) + 1, '\0');
    int m = std::vsnprintf(big.data(), big.size(), fmt, again);
    if (m > 0) libbpf_capture->append(big.data(), std::min<std::size_t>(static_cast<std::size_t>(m), big.size() - 1));
  }
  va_end(again);
  return 0;
}

// While one lives, libbpf's messages of threads that set libbpf_capture go there (the others' to the
// print function set before). Concurrent checks share it: the first installs it, the last puts the
// old one back.
struct capture_installed {
  static inline std::mutex mu;
  static inline int users = 0;
  capture_installed() {
    std::lock_guard lock(mu);
    if (users++ == 0) previous_print = libbpf_set_print(capture_print);
  }
  ~capture_installed() {
    std::lock_guard lock(mu);
    if (--users == 0) libbpf_set_print(previous_print.load());
  }
  capture_installed(const capture_installed&) = delete;
  capture_installed& operator=(const capture_installed&) = delete;
};

// This thread's libbpf messages go to `*to` while one lives (a capture_installed must live too).
struct capture_to {
  explicit capture_to(std::string* to) { libbpf_capture = to; }
  ~capture_to() { libbpf_capture = nullptr; }
  capture_to(const capture_to&) = delete;
  capture_to& operator=(const capture_to&) = delete;
};

// The verifier log libbpf printed for a program of the object other than the one under trial
// (it loads the programs a struct_ops map refers to with it): that program's name and its log.
inline std::pair<std::string, std::string> printed_load_log(std::string_view msgs) {
  constexpr std::string_view begin = "-- BEGIN PROG LOAD LOG --\n", end = "-- END PROG LOAD LOG --";
  auto b = msgs.find(begin);
  if (b == std::string_view::npos) return {};
  auto line = msgs.rfind('\n', b);
  std::string_view head = msgs.substr(line == std::string_view::npos ? 0 : line + 1, b);
  std::string name;
  if (auto q = head.find("prog '"); q != std::string_view::npos) {
    auto q2 = head.find('\'', q + 6);
    if (q2 != std::string_view::npos) name = std::string(head.substr(q + 6, q2 - q - 6));
  }
  auto e = msgs.find(end, b);
  return {name, std::string(msgs.substr(b + begin.size(), e == std::string_view::npos ? e : e - b - begin.size()))};
}

// The libbpf message line containing `needle`, trimmed of its "libbpf: " prefix.
inline std::string line_with(std::string_view text, std::string_view needle) {
  auto pos = text.find(needle);
  if (pos == std::string_view::npos) return {};
  auto b = text.rfind('\n', pos);
  b = b == std::string_view::npos ? 0 : b + 1;
  auto e = text.find('\n', pos);
  std::string line(text.substr(b, e == std::string_view::npos ? std::string_view::npos : e - b));
  if (line.starts_with("libbpf: ")) line.erase(0, 8);
  return line;
}
}  // namespace detail

// How a failed load reads: libbpf's own refusals first (they never reach the kernel), then the
// verifier log through the classify table, then the errno.
inline verdict classify_load(int err, const std::string& log, const std::string& libbpf_msgs,
                             const std::string& lockdown, std::string_view prog_type = {}) {
  struct libbpf_rule {
    std::string_view needle;
    status state;
    std::string_view meaning;
  };
  static constexpr libbpf_rule rules[] = {
      {"failed to find kernel BTF type ID", status::unsupported, "attach target not in kernel BTF"},
      {"failed to find BTF for extern", status::unsupported, "extern not in kernel BTF"},
      {"not found in kernel or module BTFs", status::unsupported, "kfunc/ksym extern not in kernel BTF"},
      {"not found in kernel BTF", status::unsupported, "ksym extern not in kernel BTF"},
      {"failed to resolve CO-RE relocation", status::unsupported, "CO-RE relocation cannot resolve"},
      // bpf_object__resolve_externs: an untyped ksym not in /proc/kallsyms, or a kconfig value the
      // kernel config lacks (ESRCH).
      {"(strong): not resolved", status::unsupported,
       "strong extern not resolved (not in /proc/kallsyms or the kernel config)"},
      {"failed to open /proc/kallsyms", status::unknown, "/proc/kallsyms cannot be read to resolve ksym externs"},
      {"is not on BPF FS", status::unknown, "pin root is not a bpffs"},
      {"value not found", status::unsupported, "kconfig extern not found"},
      {"missing BPF prog type", status::unknown,
       "libbpf does not know this section name: the type must be set before load"},
      {"attach_prog_fd", status::unknown, "freplace target program is set at run time"},
  };
  if (err == EPERM) {
    // Which capability the program's load wanted, or that none was missing (then lockdown or an LSM
    // refused it); only when the refusal was the program's load, not a map's creation before it.
    bool prog_load = libbpf_msgs.find("BPF program load failed") != std::string::npos;
    std::string reason = prog_type.empty() || !prog_load
                             ? std::string()
                             : probe::load_permission_reason(prog_type, probe::effective_caps());
    if (reason.empty()) reason = classify::errno_reason(EPERM);
    if (!lockdown.empty() && lockdown != "none") reason += "; lockdown=" + lockdown;
    return verdict::unknown(std::move(reason), EPERM, classify::deciding_line(log));
  }
  // libbpf rewrites the verifier's "invalid func unknown#195896080" line of a poisoned CO-RE
  // instruction into "failed to resolve CO-RE relocation ..." in the log buffer.
  if (auto core = detail::line_with(log, "failed to resolve CO-RE relocation"); !core.empty())
    return verdict::no("unresolved CO-RE relocation reached by the verifier", err, core);
  if (log.find("unknown#195896080") != std::string::npos ||
      libbpf_msgs.find("<invalid CO-RE relocation>") != std::string::npos) {
    std::string line = detail::line_with(libbpf_msgs, "CO-RE relocation");
    return verdict::no("unresolved CO-RE relocation reached by the verifier", err,
                       line.empty() ? classify::deciding_line(log) : line);
  }
  if (auto line = detail::line_with(log, "is referenced but wasn't resolved");
      !line.empty() || log.find("unknown#2002") != std::string::npos)
    return verdict::no("call to a missing weak kfunc reached by the verifier (no bpf_ksym_exists guard)", err,
                       line.empty() ? classify::deciding_line(log) : line);
  if (auto line = detail::line_with(log, "failed to find the address for kernel symbol"); !line.empty())
    return verdict::no("ksym extern has no address in /proc/kallsyms", err, line);
  if (log.empty() || err == 0 || libbpf_msgs.find("failed to create map") != std::string::npos ||
      libbpf_msgs.find("failed to create") != std::string::npos) {
    for (const auto& r : rules)
      if (auto line = detail::line_with(libbpf_msgs, r.needle); !line.empty())
        return {r.state, std::string(r.meaning), err, line};
    if (auto line = detail::line_with(libbpf_msgs, "failed to create"); !line.empty()) {
      if (classify::contains(classify::request_refused, err)) return verdict::no("a map cannot be created", err, line);
      return verdict::unknown("a map could not be created (" + sys::errno_name(err) + ")", err, line);
    }
  }
  std::string_view rule_line;
  if (const auto* rule = classify::match_rule(log, &rule_line)) {
    // " is not sleepable" proves the flag is known to the verifier; for this load it is a refusal.
    std::string meaning =
        rule->state == status::supported ? "the attach target is not sleepable" : std::string(rule->meaning);
    return verdict::no(std::move(meaning), err, std::string(rule_line));
  }
  if (!classify::deciding_line(log).empty() && err != EPERM)
    return verdict::no("the verifier rejected the program", err, classify::deciding_line(log));
  if (err == EACCES)
    return verdict::unknown(classify::errno_reason(EACCES), err, detail::line_with(libbpf_msgs, "libbpf"));
  // libbpf's first message names the cause; the later ones only report the failure upwards.
  std::string last = libbpf_msgs.substr(0, libbpf_msgs.find('\n'));
  if (last.starts_with("libbpf: ")) last.erase(0, 8);
  if (classify::contains(classify::request_refused, err))
    return verdict::no("the load was refused (" + sys::errno_name(err) + ")", err, last);
  return verdict::unknown(classify::errno_reason(err), err, last);
}

// The index of the instruction the verifier stopped at: the last "N: " line of its log (it prints
// each instruction as it walks it, and the error right after the failing one); none when the log has
// no instruction lines (a refusal before the walk, or no log).
inline std::optional<std::size_t> failing_insn(std::string_view log) {
  std::optional<std::size_t> last;
  std::size_t pos = 0;
  while (pos < log.size()) {
    std::size_t end = log.find('\n', pos);
    if (end == std::string_view::npos) end = log.size();
    std::string_view line = log.substr(pos, end - pos);
    std::size_t digits = 0;
    while (digits < line.size() && digits < 9 && line[digits] >= '0' && line[digits] <= '9') ++digits;
    if (digits > 0 && line.substr(digits).starts_with(": ")) last = std::stoul(std::string(line.substr(0, digits)));
    pos = end + 1;
  }
  return last;
}

// A trial load's verdict and, when the verifier refused the program, the instruction it stopped at
// (an index into the program as libbpf loaded it: source_lines.hpp maps it back).
struct trial_outcome {
  verdict v;
  bool verifier_ran = false;  // a failed load left a verifier log (the verifier ran on the program)
  std::string pin_note;       // why maps pinned by name were not pinned, empty when they were
  std::optional<std::size_t> failing_insn;
};

// Loads program `name` of the object in `bytes` alone.
inline trial_outcome trial_load(const std::vector<char>& bytes, const std::string& object_name, const std::string& name,
                                const std::string& lockdown) {
  trial_outcome out;
  std::string msgs;
  detail::capture_to capture(&msgs);
  LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = object_name.c_str());
  bpf_object* obj = bpf_object__open_mem(bytes.data(), bytes.size(), &opts);
  if (!obj) {
    out.v = verdict::unknown("libbpf cannot open the object", errno, msgs);
    return out;
  }
  struct closer {
    bpf_object* o;
    ~closer() { bpf_object__close(o); }
  } close_obj{obj};
  bpf_program* prog = nullptr;
  std::vector<char> log(1u << 20);
  for (bpf_program* p = bpf_object__next_program(obj, nullptr); p; p = bpf_object__next_program(obj, p)) {
    bool mine = name == bpf_program__name(p);
    bpf_program__set_autoload(p, mine);
    if (mine) prog = p;
  }
  if (!prog) {
    out.v = verdict::unknown("program not found in the object");
    return out;
  }
  bpf_program__set_log_buf(prog, log.data(), log.size());
  // Never the system's pins: a private bpffs for the maps pinned by name (the real pin root is
  // checked on its own, pins.hpp), or no pinning when none can be made.
  std::optional<sys::detached_mount> pins;
  for (bpf_map* m = bpf_object__next_map(obj, nullptr); m; m = bpf_object__next_map(obj, m)) {
    const char* path = bpf_map__pin_path(m);
    if (!path) continue;
    if (!pins && out.pin_note.empty()) {
      auto made = sys::detached_mount::create("bpf");
      if (made)
        pins.emplace(std::move(made.value()));
      else
        out.pin_note = "maps pinned by name loaded unpinned: no private bpffs (" + made.error().describe() + ")";
    }
    std::string base(path);
    base = base.substr(base.rfind('/') + 1);
    bpf_map__set_pin_path(m, pins ? (pins->path() + "/" + base).c_str() : nullptr);
  }
  int err = bpf_object__load(obj);
  std::string text(log.data(), strnlen(log.data(), log.size()));
  out.verifier_ran = !text.empty();
  if (err == 0) {
    out.v = verdict::yes("loaded", classify::deciding_line(text));
    return out;
  }
  const char* type = libbpf_bpf_prog_type_str(bpf_program__type(prog));
  std::string other;
  if (text.empty()) {
    auto [who, printed] = detail::printed_load_log(msgs);
    if (!printed.empty() && who != name) {
      other = who;
      text = std::move(printed);
      out.verifier_ran = true;
    }
  }
  out.v = classify_load(-err, text, msgs, lockdown, type ? type : "");
  if (other.empty())
    out.failing_insn = failing_insn(text);
  else  // another program's instruction index says nothing of this one
    out.v.reason = "program " + other + std::string(loaded_along) + out.v.reason;
  return out;
}

// Trial loads of `names`, `threads` at a time.
inline std::vector<trial_outcome> trial_loads(const std::vector<char>& bytes, const std::string& object_name,
                                              const std::vector<std::string>& names, const std::string& lockdown,
                                              unsigned threads) {
  std::vector<trial_outcome> out(names.size());
  detail::capture_installed installed;
  probe::parallel_for(names.size(), threads,
                      [&](std::size_t i) { out[i] = trial_load(bytes, object_name, names[i], lockdown); });
  return out;
}

}  // namespace bpfprobe::objcheck
