"""Writers for the BTF corpus (make-btf-corpus.py): a BTF object built type by type into raw bytes,
and an ELF file that carries it in a .BTF section."""
import struct

# BTF kinds (include/uapi/linux/btf.h).
INT, PTR, ARRAY, STRUCT, UNION, ENUM, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT = 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
FUNC, FUNC_PROTO, VAR, DATASEC, FLOAT, DECL_TAG, TYPE_TAG, ENUM64 = 12, 13, 14, 15, 16, 17, 18, 19


class Btf:
    """A BTF object under construction: types as (kind, name, info fields) and a string table."""

    def __init__(self):
        self.types = []  # list of dicts; id = index + 1
        self.strings = b"\0"
        self.offsets = {"": 0}

    def s(self, name):
        raw = name.encode("utf-8", "surrogateescape") if isinstance(name, str) else name
        key = raw
        if key not in self.offsets:
            self.offsets[key] = len(self.strings)
            self.strings += raw + b"\0"
        return self.offsets[key]

    def add(self, kind, name="", size_or_type=0, vlen=0, kflag=0, extra=()):
        self.types.append(dict(kind=kind, name=self.s(name), st=size_or_type, vlen=vlen, kflag=kflag,
                               extra=list(extra)))
        return len(self.types)

    def int_(self, name, size=4, signed=True):
        return self.add(INT, name, size, extra=[("I", (1 if signed else 0) << 24 | size * 8)])

    def enum(self, name, values, size=4):
        extra = [("Ii", (self.s(n), v)) for n, v in values]
        return self.add(ENUM, name, size, vlen=len(values), extra=extra)

    def enum64(self, name, values, size=8):
        extra = [("III", (self.s(n), v & 0xffffffff, (v >> 32) & 0xffffffff)) for n, v in values]
        return self.add(ENUM64, name, size, vlen=len(values), extra=extra)

    def struct(self, name, size, members):
        extra = [("III", (self.s(n), t, off)) for n, t, off in members]
        return self.add(STRUCT, name, size, vlen=len(members), extra=extra)

    def proto(self, ret, params):
        extra = [("II", (self.s(n), t)) for n, t in params]
        return self.add(FUNC_PROTO, "", ret, vlen=len(params), extra=extra)

    def decl_tag(self, name, target, component=-1):
        return self.add(DECL_TAG, name, target, extra=[("i", component)])

    def type_bytes(self, endian="<"):
        out = b""
        for t in self.types:
            info = (t["kflag"] << 31) | (t["kind"] << 24) | t["vlen"]
            out += struct.pack(endian + "III", t["name"], info & 0xffffffff, t["st"] & 0xffffffff)
            for fmt, vals in t["extra"]:
                vals = vals if isinstance(vals, tuple) else (vals,)
                out += struct.pack(endian + fmt, *vals)
        return out

    def raw(self, endian="<", **hdr):
        types = self.type_bytes(endian)
        h = dict(magic=0xeB9F, version=1, flags=0, hdr_len=24, type_off=0, type_len=len(types),
                 str_off=len(types), str_len=len(self.strings))
        h.update(hdr)
        head = struct.pack(endian + "HBBIIIII", h["magic"], h["version"], h["flags"], h["hdr_len"],
                           h["type_off"], h["type_len"], h["str_off"], h["str_len"])
        return head + types + self.strings


def elf_wrap(btf, sections=None, **over):
    """A minimal ELF64 relocatable object whose .BTF section holds `btf`. `sections` may replace the
    (name, type, data) list; `over` patches header/section fields for the corrupt variants."""
    secs = sections if sections is not None else [(".BTF", 1, btf)]
    shstr = b"\0"
    names = []
    for n, _, _ in secs:
        names.append(len(shstr))
        shstr += n.encode() + b"\0"
    names.append(len(shstr))
    shstr += b".shstrtab\0"
    body = b""
    offs = []
    pos = 64
    for _, _, data in secs:
        offs.append(pos + len(body))
        body += data
        body += b"\0" * (-len(body) % 8)
    shstr_off = 64 + len(body)
    body += shstr
    body += b"\0" * (-len(body) % 8)
    shoff = 64 + len(body)
    shnum = len(secs) + 2
    ehdr = dict(shoff=over.get("shoff", shoff), shnum=over.get("shnum", shnum),
                shstrndx=over.get("shstrndx", shnum - 1), machine=over.get("machine", 247))
    head = b"\x7fELF" + bytes([2, 1, 1, 0]) + b"\0" * 8
    head += struct.pack("<HHIQQQIHHHHHH", 1, ehdr["machine"], 1, 0, 0, ehdr["shoff"], 0, 64, 0, 0, 64,
                        ehdr["shnum"], ehdr["shstrndx"])
    shdrs = b"\0" * 64
    for k, (_, typ, data) in enumerate(secs):
        off = over.get("btf_offset", offs[k]) if k == 0 else offs[k]
        size = over.get("btf_size", len(data)) if k == 0 else len(data)
        name = over.get("btf_name_off", names[k]) if k == 0 else names[k]
        typ = over.get("btf_type", typ) if k == 0 else typ
        shdrs += struct.pack("<IIQQQQIIQQ", name, typ, 0, 0, off, size, 0, 0, 8, 0)
    shdrs += struct.pack("<IIQQQQIIQQ", names[-1], 3, 0, 0, shstr_off, len(shstr), 0, 0, 1, 0)
    return head + body + shdrs
