// What the C ABI of an ahead-of-time compiled model says (runtime/AotABI.h, docs/aot.md), built
// from the kernel plans in one place and read by both writers of the ABI: the tables and
// workspace size functions in the object (AbiTables.h) and the C header (HeaderWriter.h). No LLVM.
//
// Symbols, for prefix P and kernel K (forward, backward, generate):
//   P_K                    the kernel, void (const rnnc_rt_kernel_args *)
//   P_K_workspace_bytes    its workspace size, int64_t (int64_t batch, const int64_t *padded)
//   P_K_info               its rnnc_kernel_info table
//   P_model                the rnnc_model_info table
#pragma once

#include "compiler/codegen/KernelPlan.h"
#include "ir/Graph.h"
#include "runtime/Error.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace rnnc::aot {

/// One tensor of a kernel's ABI (rnnc_tensor_info): the values of its fields.
struct TensorDescription {
  std::string name;
  std::vector<int64_t> shape;
  int32_t dtype = 0, axis = -1, layout = 0, role = 0;
  int64_t vocab = 0;
  bool isPrime = false;
};

/// The workspace size as a formula of the batch size B and padded lengths: per slot (term),
/// roundUp(bytesPerStep * (B when perExample) * (ceil(T[axis] / factor) + prefixSteps for a
/// sequence), alignment). It restates codegen::KernelPlan::workspaceBytes for code that runs without the
/// plan (the object's size query); backend::KernelRunner checks the compiled query against the
/// plan on every AOT run.
struct WorkspaceFormula {
  struct Term {
    int64_t bytesPerStep = 0;
    int32_t axis = -1; ///< -1: a static slot.
    int64_t factor = 1;
    bool perExample = true;
    int64_t prefixSteps = 0;
  };
  int64_t alignment = 64;
  std::vector<Term> terms;
};

struct FailingOpDescription {
  std::string where, axis;
};

struct KernelDescription {
  std::string kind;  ///< "forward", "backward", "generate"
  std::string entry; ///< P_K
  std::string workspaceFunction, infoSymbol;
  int32_t dtype = 0;
  std::vector<std::string> axes;
  std::vector<TensorDescription> params, data, outputs;
  std::vector<FailingOpDescription> failingOps;
  WorkspaceFormula workspace;
};

struct LibraryDescription {
  std::string modelName, prefix, source;
  std::vector<std::pair<std::string, int64_t>> dims;
  std::vector<KernelDescription> kernels;
  std::string modelSymbol; ///< P_model

  const KernelDescription *find(const std::string &kind) const;
};

/// The prefix of every symbol of a model compiled from `path` (its file stem with every character
/// that cannot be in a C identifier replaced by '_'), or `name` when given. A given name that is
/// not a C identifier is a user error.
Expected<std::string> symbolPrefix(const std::string &path, const std::string &name);

/// The description of kernel `kind` of `plan`, whose symbols start with `prefix`.
KernelDescription describeKernel(const std::string &prefix, const std::string &kind,
                                 const codegen::KernelPlan &plan);

} // namespace rnnc::aot
