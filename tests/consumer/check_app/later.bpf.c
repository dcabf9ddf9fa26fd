// A program whose attach target the application sets before load (SEC("fentry") names none): no
// check can tell here whether it loads (unknown, exit 3), whatever the kernel.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("fentry")
int traced(void* ctx) { return 0; }
