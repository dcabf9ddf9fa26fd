// Truth loader for the check corpus: what libbpf (the one this is linked against) really does when
// it loads one program of an object alone. For OBJ and each program named (every program when none
// is), it opens the object afresh, turns autoload off for every other program, calls
// bpf_object__load and prints one JSON line:
//   {"program":P,"section":S,"loaded":B,"errno":N,"errno_name":E,"log_tail":T}
// When the object cannot even be opened, one line with "program":"*" stands for all its programs.
// Nothing is left behind: the object is closed after each attempt, and a map libbpf pinned by name
// during a successful load (a host with bpffs at the pin root) is unpinned again unless its pin
// existed before the load.
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { LOG_CAP = 1 << 20, TAIL_LINES = 6, MAX_MAPS = 256 };

static char log_buf[LOG_CAP];
static size_t log_len;

static int capture(enum libbpf_print_level level, const char* fmt, va_list ap) {
  if (level == LIBBPF_DEBUG) return 0;
  if (log_len + 1 >= LOG_CAP) return 0;
  int n = vsnprintf(log_buf + log_len, LOG_CAP - log_len, fmt, ap);
  if (n > 0) log_len += (size_t)n < LOG_CAP - log_len ? (size_t)n : LOG_CAP - log_len - 1;
  return 0;
}

static void json_string(const char* s) {
  putchar('"');
  for (; s && *s; ++s) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') printf("\\%c", c);
    else if (c == '\n') fputs("\\n", stdout);
    else if (c == '\t') fputs("\\t", stdout);
    else if (c < 0x20 || c >= 0x7f) printf("\\u%04x", c);
    else putchar(c);
  }
  putchar('"');
}

// Lines that say nothing about why: the verifier's statistics and libbpf's closing summary.
static bool noise(const char* line, size_t n) {
  static const char* const skip[] = {"processed ", "-- END PROG LOAD LOG --", "-- BEGIN PROG LOAD LOG --",
                                     "libbpf: failed to load object", "verification time ", "stack depth "};
  for (size_t i = 0; i < sizeof skip / sizeof *skip; ++i) {
    size_t k = strlen(skip[i]);
    if (n >= k && strncmp(line, skip[i], k) == 0) return true;
  }
  return n == 0;
}

// The last TAIL_LINES telling lines of what libbpf printed (the verifier log's included).
static const char* log_tail(void) {
  static char tail[8192];
  const char* lines[TAIL_LINES];
  size_t lens[TAIL_LINES];
  int count = 0;
  for (const char* p = log_buf; p < log_buf + log_len;) {
    const char* e = memchr(p, '\n', (size_t)(log_buf + log_len - p));
    size_t n = e ? (size_t)(e - p) : (size_t)(log_buf + log_len - p);
    if (!noise(p, n)) {
      if (count == TAIL_LINES) {
        memmove(lines, lines + 1, sizeof lines[0] * (TAIL_LINES - 1));
        memmove(lens, lens + 1, sizeof lens[0] * (TAIL_LINES - 1));
        --count;
      }
      lines[count] = p;
      lens[count++] = n;
    }
    p += n + 1;
  }
  size_t used = 0;
  tail[0] = 0;
  for (int i = 0; i < count; ++i) {
    int w = snprintf(tail + used, sizeof tail - used, "%s%.*s", i ? "\n" : "", (int)lens[i], lines[i]);
    if (w < 0 || (size_t)w >= sizeof tail - used) break;
    used += (size_t)w;
  }
  return tail;
}

// glibc names the uapi errnos; the verifier also returns kernel-internal ones (include/linux/errno.h).
static const char* errno_name(int e) {
  const char* n = strerrorname_np(e);
  if (n) return n;
  switch (e) {
    case 512: return "ERESTARTSYS";
    case 524: return "ENOTSUPP";
    case 525: return "ETOOSMALL";
    default: return "?";
  }
}

static void report(const char* prog, const char* section, int err) {
  printf("{\"program\":");
  json_string(prog);
  printf(",\"section\":");
  json_string(section);
  printf(",\"loaded\":%s,\"errno\":%d,\"errno_name\":", err ? "false" : "true", err < 0 ? -err : err);
  json_string(err ? errno_name(err < 0 ? -err : err) : "");
  printf(",\"log_tail\":");
  json_string(err ? log_tail() : "");
  printf("}\n");
  fflush(stdout);
}

static int load_alone(const char* path, const char* want, char* section_out, size_t section_cap) {
  log_len = 0;
  log_buf[0] = 0;
  struct bpf_object* obj = bpf_object__open_file(path, NULL);
  if (!obj) return -errno;
  struct bpf_program* prog;
  bool found = false;
  bpf_object__for_each_program(prog, obj) {
    bool mine = strcmp(bpf_program__name(prog), want) == 0;
    if (mine) {
      found = true;
      snprintf(section_out, section_cap, "%s", bpf_program__section_name(prog));
    }
    bpf_program__set_autoload(prog, mine);
  }
  if (!found) {
    bpf_object__close(obj);
    return -ENOENT;
  }
  // Which pins exist before the load: those are not ours to remove.
  bool preexisting[MAX_MAPS] = {0};
  struct bpf_map* map;
  int i = 0;
  bpf_object__for_each_map(map, obj) {
    const char* pin = bpf_map__pin_path(map);
    if (i < MAX_MAPS && pin) preexisting[i] = access(pin, F_OK) == 0;
    ++i;
  }
  int err = bpf_object__load(obj);
  if (err > 0) err = -err;
  i = 0;
  bpf_object__for_each_map(map, obj) {
    if (i < MAX_MAPS && bpf_map__is_pinned(map) && !preexisting[i]) bpf_map__unpin(map, NULL);
    ++i;
  }
  bpf_object__close(obj);
  return err;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s OBJ [PROGRAM...]\n", argv[0]);
    return 2;
  }
  libbpf_set_print(capture);
  const char* path = argv[1];
  char section[256] = "";
  if (argc > 2) {
    for (int a = 2; a < argc; ++a) {
      section[0] = 0;
      report(argv[a], section, load_alone(path, argv[a], section, sizeof section));
    }
    return 0;
  }
  // Every program: list them from one open, then load each from its own open.
  log_len = 0;
  struct bpf_object* obj = bpf_object__open_file(path, NULL);
  if (!obj) {
    report("*", "", -errno);
    return 0;
  }
  int n = 0;
  struct bpf_program* prog;
  bpf_object__for_each_program(prog, obj)++ n;
  char(*names)[128] = calloc(n ? n : 1, sizeof *names);
  if (!names) return 1;
  n = 0;
  bpf_object__for_each_program(prog, obj) snprintf(names[n++], sizeof *names, "%s", bpf_program__name(prog));
  bpf_object__close(obj);
  for (int k = 0; k < n; ++k) {
    section[0] = 0;
    report(names[k], section, load_alone(path, names[k], section, sizeof section));
  }
  free(names);
  return 0;
}
