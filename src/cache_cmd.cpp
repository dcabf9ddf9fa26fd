// `bpfprobe cache show|clear` and the cache flags of every run.
#include "cache_cmd.hpp"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpfprobe/probe/persist.hpp>
#include <cerrno>
#include <cstring>

#include "render.hpp"

namespace bpfprobe::cli {

void add_cache_options(CLI::App& app, cache_flags& f) {
  app.add_flag("--no-cache", f.off, "Neither read nor write the persistent verdict cache (BPFPROBE_NO_CACHE=1 too)");
  app.add_flag("--refresh", f.refresh, "Probe everything again and replace the persistent verdict cache");
  app.add_option("--cache-dir", f.dir,
                 "Directory of the persistent verdict cache (default: $BPFPROBE_CACHE_DIR, /run/bpfprobe for root, "
                 "$XDG_RUNTIME_DIR/bpfprobe otherwise)")
      ->check(CLI::Validator(
          [](std::string& v) { return v.empty() ? std::string("the value must not be empty") : std::string(); },
          "NON-EMPTY"));
  f.command = app.add_subcommand("cache",
                                 "Show or clear the persistent verdict cache (`cache show`, `cache clear`; exit 0, "
                                 "4 when it cannot be cleared)");
  f.command->add_option("ACTION", f.action, "show or clear")->required()->check(CLI::IsMember({"show", "clear"}));
  f.command->fallthrough();
}

void apply_cache_flags(const cache_flags& f, probe::options& opt) {
  opt.cache.enabled = !f.off;
  opt.cache.refresh = f.refresh;
  if (!f.dir.empty()) opt.cache.dir = f.dir;
}

namespace {

int show(std::ostream& out, const probe::options& opt) {
  namespace persist = probe::persist;
  auto dir = persist::cache_dir(opt);
  if (!persist::cache_enabled(opt)) out << "cache: off\n";
  if (dir.empty()) {
    out << "directory: none (not root and no XDG_RUNTIME_DIR; set --cache-dir or BPFPROBE_CACHE_DIR)\n";
    return exit_ok;
  }
  out << "directory: " << dir.string() << '\n';
  std::string key = persist::cache_key(opt);
  auto file = persist::file_for(dir, key);
  out << "file: " << file.string() << '\n';
  struct stat st {};
  if (::lstat(file.c_str(), &st) != 0) {
    out << "state: absent (the next run probes and fills it)\n";
  } else if (auto c = persist::load(file, key)) {
    std::size_t supported = 0;
    for (const auto& [k, v] : c->verdicts) supported += v.supported();
    out << "state: valid, " << st.st_size << " bytes, " << c->verdicts.size() << " verdicts (" << supported
        << " supported), full report " << (c->report ? "stored" : "not stored") << '\n';
  } else {
    out << "state: ignored (not a regular file of this user, writable by others, or corrupt); the next run "
           "replaces it\n";
  }
  out << "key:\n";
  for (std::size_t at = 0; at < key.size();) {
    auto nl = key.find('\n', at);
    out << "  " << key.substr(at, nl - at) << '\n';
    at = nl == std::string::npos ? key.size() : nl + 1;
  }
  return exit_ok;
}

int clear(std::ostream& out, std::ostream& err, const probe::options& opt) {
  auto dir = probe::persist::cache_dir(opt);
  if (dir.empty()) {
    out << "no cache directory\n";
    return exit_ok;
  }
  DIR* d = ::opendir(dir.c_str());
  if (!d) {
    if (errno == ENOENT) {
      out << "removed 0 files from " << dir.string() << '\n';
      return exit_ok;
    }
    err << "bpfprobe: cache clear: cannot open " << dir.string() << ": " << std::strerror(errno) << '\n';
    return exit_failure;
  }
  std::size_t removed = 0;
  bool failed = false;
  while (dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    // Temporary files: ".tmp-<owner>-<random>" (older versions: "<file>.cache.tmp.<pid>.<random>").
    bool temp = name.starts_with(probe::persist::temp_prefix) ||
                (name.find(".cache.tmp.") != std::string_view::npos && name[0] == 'v');
    if (!probe::persist::is_cache_file_name(name) && !temp) continue;
    if (::unlinkat(::dirfd(d), e->d_name, 0) == 0)
      ++removed;
    else if (errno != ENOENT)
      failed = true;
  }
  ::closedir(d);
  out << "removed " << removed << " file" << (removed == 1 ? "" : "s") << " from " << dir.string() << '\n';
  if (failed) {
    err << "bpfprobe: cache clear: some files in " << dir.string() << " could not be removed\n";
    return exit_failure;
  }
  return exit_ok;
}

}  // namespace

int run_cache_command(std::ostream& out, std::ostream& err, const cache_flags& f, const probe::options& opt) {
  return f.action == "clear" ? clear(out, err, opt) : show(out, opt);
}

}  // namespace bpfprobe::cli
