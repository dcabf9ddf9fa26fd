// The decide layer: per hook, the attach paths in preference order with their verdicts, and the
// path chosen. decide::all(decide::from(prober)) is what the report's "attach" section shows.
#pragma once

#include <bpfprobe/decide/choice.hpp>
#include <bpfprobe/decide/hooks.hpp>
#include <bpfprobe/decide/inputs.hpp>
#include <bpfprobe/decide/facts.hpp>
