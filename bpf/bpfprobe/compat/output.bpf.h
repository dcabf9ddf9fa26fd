/* Records to user space through one macro.
 *
 *   tier 1 RINGBUF  BPF_MAP_TYPE_RINGBUF + bpf_ringbuf_output() (5.8)
 *   tier 2 PERF     BPF_MAP_TYPE_PERF_EVENT_ARRAY + bpf_perf_event_output() on the current CPU
 *
 *   BPFPROBE_OUTPUT_MAP(events, 256 * 1024);              // at file scope: events__ringbuf, events__perf
 *   bpfprobe_output(ctx, events, &record, sizeof(record)); // in a program; returns 0 or -errno
 *
 * Both maps are in the object. configure() (C++) turns off creation of the one the chosen tier does not
 * use, which matters on kernels without ring buffers, where creating it would fail the load; in AUTO
 * mode both are created. bpfprobe::compat::output_reader reads whichever the tier uses. */
#ifndef BPFPROBE_COMPAT_OUTPUT_BPF_H
#define BPFPROBE_COMPAT_OUTPUT_BPF_H

#include <bpfprobe/compat/common.bpf.h>

BPFPROBE_ACCESSOR(output);

#define BPFPROBE_OUTPUT_MAP(name, ringbuf_bytes) \
  struct {                                       \
    __uint(type, BPF_MAP_TYPE_RINGBUF);          \
    __uint(max_entries, ringbuf_bytes);          \
  } name##__ringbuf SEC(".maps");                \
  struct {                                       \
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY); \
    __uint(key_size, sizeof(__u32));             \
    __uint(value_size, sizeof(__u32));           \
  } name##__perf SEC(".maps")

static __always_inline long bpfprobe__output(void* ctx, void* ringbuf, void* perf, void* data, __u64 size) {
  __u32 tier = BPFPROBE_TIER(output);
  if (tier == BPFPROBE_TIER_AUTO)
    tier = bpf_core_enum_value_exists(enum bpf_map_type, BPF_MAP_TYPE_RINGBUF) ? BPFPROBE_OUTPUT_RINGBUF
                                                                               : BPFPROBE_OUTPUT_PERF;
  if (tier == BPFPROBE_OUTPUT_RINGBUF) return bpf_ringbuf_output(ringbuf, data, size, 0);
  if (tier == BPFPROBE_OUTPUT_PERF) return bpf_perf_event_output(ctx, perf, BPF_F_CURRENT_CPU, data, size);
  BPFPROBE_UNAVAILABLE(output);
  return -1;
}

#define bpfprobe_output(ctx, name, data, size) bpfprobe__output((ctx), &name##__ringbuf, &name##__perf, (data), (size))

#endif /* BPFPROBE_COMPAT_OUTPUT_BPF_H */
