// HoistTimeParallel: time-parallel hoisting (design.md §2). Whatever in a scan body does not
// depend on the carried state leaves the loop and runs once over all steps, as ops on whole
// sequences before the scan (an op outside a scan with sequence operands runs per step), so
// only the critical path stays sequential: the input projections, the output layer and softmax
// of Type I models, all of a Type II model under teacher forcing, and in the backward graph the
// weight gradients as one product over all steps. Per scan:
//
//  1. Every body value is classified by what it depends on: the *state* (a carry, transitively,
//     or a `feed`/`sample`), the *step* (a step argument, not the state), only *statics*, or
//     nothing (a constant leaf). A carry whose next value does not depend on the state is no
//     state: its value is `shift(next, init)` in the scan's direction, a step sequence.
//  2. Sums are regrouped: in a state-dependent chain of adds with two or more state-independent
//     terms, those terms are added first (statics, then per-step ones) so they leave as one
//     sequence: `b + W@h + U@x` becomes `(b + U@x) + W@h`.
//  3. State-independent ops move before the scan: per-step ones as ops on sequences, static ones
//     once (e.g. `transpose %W`); constants are copied where they are read. The body reads the
//     hoisted values as new step or static arguments; arguments it no longer reads are dropped;
//     per-step outputs that no longer depend on the state are replaced by the hoisted sequences.
//  4. A product of the state (`outer`, `matmul`) that only feeds per-step outputs moves after the
//     scan, which yields its operands instead: the weight gradient's δ(t) h(t−1)ᵀ and the input
//     gradient's Uᵀ δ(t) leave the loop and run for all steps at once.
//  A scan left without state-dependent outputs disappears: its work is all per-step ops.
//  5. Outside scans, `sum_time(outer(a, b))` becomes `sum_outer(a, b)` (both sequences: one GEMM
//     [m, T·B] × [T·B, n]), or `outer(sum_time(a), b)` when b is static (and mirrored).
//
// Assumes a verified module. Left alone: scans that contain `feed` or `sample` (generation), whose
// step sequences are primes, shorter than the axis, and whose draws keep their order; and scans
// over a segment axis (checkpointed gradients), whose bodies recompute the forward from saved
// states: hoisting that recomputation would store it for every step, which checkpointing is
// asked not to do. A scan's results over another axis than its own (saved states) stay results.
//
// Invariant: the module verifies; every output keeps its value up to the rounding of regrouped
// sums; the state-dependent ops stay in their scan in their order; no dead op is left.
#pragma once

#include "ir/Graph.h"
#include "runtime/Error.h"

#include <cstddef>

namespace rnnc::passes {

/// Hoists the state-independent work out of every scan of every graph of `module`. Returns the
/// number of changes (ops moved out of scan bodies, sums regrouped, carries turned into shifts,
/// sums of outer products rewritten); 0 means the module is unchanged. An internal error only
/// when the module breaks the IR's invariants.
Expected<size_t> hoistTimeParallel(ir::Module &module);

} // namespace rnnc::passes
