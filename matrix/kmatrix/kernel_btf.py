"""The vmlinux BTF inside a kernel Image (arm64 Debian kernels ship the raw, uncompressed Image: its
.BTF section is in it verbatim). Used to generate the vmlinux.h a cross build compiles its BPF C with
(scripts/build.sh --arch arm64)."""

import struct
import sys

BTF_HEADER = struct.Struct("<HBBIIIII")  # magic, version, flags, hdr_len, type_off/len, str_off/len
BTF_MAGIC = 0xEB9F


def find_btf(image):
    """The largest well-formed BTF blob in IMAGE (bytes), or None."""
    best, pos = None, 0
    needle = struct.pack("<HBBI", BTF_MAGIC, 1, 0, BTF_HEADER.size)
    while True:
        pos = image.find(needle, pos)
        if pos < 0:
            return best
        _, _, _, hdr_len, type_off, type_len, str_off, str_len = BTF_HEADER.unpack_from(image, pos)
        end = pos + hdr_len + max(type_off + type_len, str_off + str_len)
        strings = pos + hdr_len + str_off
        # vmlinux BTF: types first, then strings starting with the empty string, all inside the image.
        if (type_off == 0 and str_off >= type_len and str_len > 0 and end <= len(image)
                and image[strings] == 0 and image[end - 1] == 0
                and (best is None or end - pos > len(best))):
            best = image[pos:end]
        pos += 1


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: kernel_btf.py IMAGE OUT")
    with open(sys.argv[1], "rb") as f:
        blob = find_btf(f.read())
    if blob is None:
        sys.exit(f"{sys.argv[1]}: no BTF found in the kernel image")
    with open(sys.argv[2], "wb") as f:
        f.write(blob)
    return 0


if __name__ == "__main__":
    sys.exit(main())
