"""matrix/kernels.txt entries and facts read from an extracted kernel package."""

import re
import sys


def valid_option(key, value):
    return ((key, value) in (("modules", "optional"), ("modules", "none"), ("arch", "amd64"), ("arch", "arm64"),
                             ("quick", "no"))
            or (key == "flavour" and value))


def load_kernel_list(path):
    entries = []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            words = line.split("#", 1)[0].split()
            if not words:
                continue
            if len(words) < 3:
                sys.exit(f"{path}:{lineno}: expected NAME SUITE SERIES [key=value ...]")
            opts = dict(w.split("=", 1) if "=" in w else (w, "") for w in words[3:])
            bad = [f"{k}={v}" for k, v in opts.items() if not valid_option(k, v)]
            if bad:
                sys.exit(f"{path}:{lineno}: unknown option {', '.join(bad)} "
                         "(known: arch=amd64|arm64, flavour=NAME, modules=optional, modules=none, quick=no)")
            arch = opts.get("arch", "amd64")
            entries.append({"name": words[0], "suite": words[1], "series": words[2], "arch": arch,
                            "flavour": opts.get("flavour", arch),
                            "modules_optional": opts.get("modules") == "optional",
                            "quick": opts.get("quick") != "no",
                            "no_modules": opts.get("modules") == "none"})
    return entries


def kernel_version(release):
    m = re.match(r"(\d+)\.(\d+)", release)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def config_value(config, key):
    if not config:
        return None
    with open(config) as f:
        for line in f:
            if line.startswith(key + "="):
                return line.split("=", 1)[1].strip()
    return "n"
