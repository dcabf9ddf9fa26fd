// The kfunc side of BTF without a kernel: prototype rendering and the untagged candidate rule, on BTF
// built here with libbpf.
#include <gtest/gtest.h>

#include <bpfprobe/btf/kfuncs.hpp>
#include <bpfprobe/catalog/load_setup.hpp>
#include <bpfprobe/probe/classify.hpp>

namespace bpfprobe {
namespace {

struct built {
  probe::btf_builder b{btf__new_empty()};
  int i32 = btf__add_int(b.get(), "int", 4, BTF_INT_SIGNED);
  int u32 = btf__add_typedef(b.get(), "u32", btf__add_int(b.get(), "unsigned int", 4, 0));
};

TEST(KfuncPrototype, PointersConstStructsAndNames) {
  built t;
  auto* b = t.b.get();
  int dynptr = btf__add_struct(b, "bpf_dynptr", 16);
  int const_dynptr_ptr = btf__add_ptr(b, btf__add_const(b, dynptr));
  int void_ptr = btf__add_ptr(b, 0);
  int const_void_ptr = btf__add_ptr(b, btf__add_const(b, 0));
  // void *bpf_dynptr_slice(const struct bpf_dynptr *p, u32 offset, void *buffer__opt, u32 buffer__szk)
  int proto = btf__add_func_proto(b, void_ptr);
  btf__add_func_param(b, "p", const_dynptr_ptr);
  btf__add_func_param(b, "offset", t.u32);
  btf__add_func_param(b, "buffer__opt", void_ptr);
  btf__add_func_param(b, "buffer__szk", t.u32);
  int slice = btf__add_func(b, "bpf_dynptr_slice", BTF_FUNC_GLOBAL, proto);
  EXPECT_EQ(btf::prototype(b, slice),
            "void *bpf_dynptr_slice(const struct bpf_dynptr *p, u32 offset, void *buffer__opt, u32 buffer__szk)");

  int proto2 = btf__add_func_proto(b, 0);
  int fn = btf__add_func(b, "bpf_rcu_read_lock", BTF_FUNC_GLOBAL, proto2);
  EXPECT_EQ(btf::prototype(b, fn), "void bpf_rcu_read_lock(void)");

  int proto3 = btf__add_func_proto(b, t.i32);
  btf__add_func_param(b, "obj", const_void_ptr);
  btf__add_func_param(b, "", t.i32);  // unnamed parameter
  int fn3 = btf__add_func(b, "f", BTF_FUNC_GLOBAL, proto3);
  EXPECT_EQ(btf::prototype(b, fn3), "int f(const void *obj, int)");
}

TEST(KfuncPrototype, FunctionPointerArrayAndDoublePointer) {
  built t;
  auto* b = t.b.get();
  // Parameters must directly follow their FUNC_PROTO: every referenced type is made first.
  int void_ptr = btf__add_ptr(b, 0);
  int int_ptr = btf__add_ptr(b, t.i32);
  int cb_proto = btf__add_func_proto(b, t.i32);
  btf__add_func_param(b, "", void_ptr);
  btf__add_func_param(b, "", int_ptr);
  int cb_ptr = btf__add_ptr(b, cb_proto);
  int arr_ptr = btf__add_ptr(b, btf__add_array(b, t.u32, t.i32, 4));
  int pp = btf__add_ptr(b, btf__add_ptr(b, btf__add_fwd(b, "task_struct", BTF_FWD_STRUCT)));
  int proto = btf__add_func_proto(b, t.i32);
  btf__add_func_param(b, "callback_fn", cb_ptr);
  btf__add_func_param(b, "words", arr_ptr);
  btf__add_func_param(b, "tp", pp);
  int fn = btf__add_func(b, "g", BTF_FUNC_GLOBAL, proto);
  EXPECT_EQ(btf::prototype(b, fn), "int g(int (*callback_fn)(void *, int *), int[4] *words, struct task_struct **tp)");
  EXPECT_EQ(btf::prototype(b, t.i32), "") << "not a FUNC";
}

// A hostile BTF: a type cycle or a graph too wide to walk gives no prototype, a name no C
// declaration has reads "?": never a hang, a crash or a bad line. libbpf's builder checks no
// reference, so the cycle is two types that refer to each other by id.
TEST(KfuncPrototype, HostileTypesGiveNoPrototype) {
  built t;
  auto* b = t.b.get();
  int first = static_cast<int>(btf__type_cnt(b));
  int ptr = btf__add_ptr(b, first + 1);
  ASSERT_EQ(btf__add_const(b, ptr), first + 1);
  int cyclic = btf__add_func_proto(b, t.i32);
  btf__add_func_param(b, "loop", ptr);
  EXPECT_EQ(btf::prototype(b, btf__add_func(b, "cyclic", BTF_FUNC_GLOBAL, cyclic)), "");

  // 20 levels of 20 parameters, each a pointer to the level below: 20^20 paths through few types.
  int level = t.i32;
  for (int depth = 0; depth < 20; ++depth) {
    int proto = btf__add_func_proto(b, t.i32);
    for (int i = 0; i < 20; ++i) btf__add_func_param(b, "", level);
    level = btf__add_ptr(b, proto);
  }
  int wide = btf__add_func_proto(b, t.i32);
  btf__add_func_param(b, "w", level);
  EXPECT_EQ(btf::prototype(b, btf__add_func(b, "wide", BTF_FUNC_GLOBAL, wide)), "");

  int bad_struct = btf__add_ptr(b, btf__add_struct(b, "x\n#error", 4));
  int bad = btf__add_func_proto(b, t.i32);
  btf__add_func_param(b, "p", bad_struct);
  EXPECT_EQ(btf::prototype(b, btf__add_func(b, "bad", BTF_FUNC_GLOBAL, bad)), "int bad(struct ? *p)");

  int anon = btf__add_ptr(b, btf__add_struct(b, nullptr, 4));
  int with_anon = btf__add_func_proto(b, t.i32);
  btf__add_func_param(b, "p", anon);
  EXPECT_EQ(btf::prototype(b, btf__add_func(b, "anon", BTF_FUNC_GLOBAL, with_anon)), "int anon(struct (anon) *p)");
}

TEST(KfuncCandidates, NameSpacesWithoutTags) {
  for (const char* yes :
       {"bpf_rdonly_cast", "__bpf_trap", "scx_bpf_dsq_insert", "hid_bpf_get_data", "tcp_reno_ssthresh", "cubictcp_init",
        "bbr_main", "cgroup_rstat_flush", "css_rstat_updated", "crash_kexec"})
    EXPECT_TRUE(btf::is_candidate(yes)) << yes;
  for (const char* no : {"vfs_read", "bpf_lsm_file_open", "tcp_sendmsg", "crash_kexec_x", "scx_ops_enable"})
    EXPECT_FALSE(btf::is_candidate(no)) << no;
}

}  // namespace
}  // namespace bpfprobe

namespace bpfprobe {
namespace {

// 5.10 prints the call line ("call unknown#<btf id>") before refusing the call form: the rule wins
// over "the verifier reached the call".
TEST(KfuncClassify, PseudoKfuncCallOnAKernelWithoutKfuncsIsUnsupported) {
  sys::error e{EINVAL, "BPF_PROG_LOAD", "0: (85) call unknown#65486\nBPF_CALL uses reserved fields\n", {}};
  verdict v = classify::from_error(e, {.must_reach = "#65486"});
  EXPECT_EQ(v.state, status::unsupported);
  EXPECT_EQ(v.evidence, "BPF_CALL uses reserved fields");
}

TEST(KfuncClassify, NotAllowedIsPerProgramTypeAndArgumentChecksMeanAllowed) {
  sys::error refused{
      EACCES, "BPF_PROG_LOAD", "0: (85) call vfs_read#119873\ncalling kernel function vfs_read is not allowed\n", {}};
  EXPECT_EQ(classify::from_error(refused, {.must_reach = "#119873"}).state, status::unsupported);
  sys::error args{EINVAL, "BPF_PROG_LOAD", "0: (85) call bpf_rdonly_cast#65486\nR2 is not a scalar\n", {}};
  verdict v = classify::from_error(args, {.must_reach = "#65486"});
  EXPECT_EQ(v.state, status::supported);
  EXPECT_EQ(v.evidence, "R2 is not a scalar");
}

}  // namespace
}  // namespace bpfprobe
