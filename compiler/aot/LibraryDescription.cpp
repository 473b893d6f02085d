// describeKernel and symbolPrefix (LibraryDescription.h).
#include "compiler/aot/LibraryDescription.h"

#include "compiler/backend/KernelRunner.h"
#include "runtime/AotABI.h"

#include <cctype>
#include <filesystem>

namespace rnnc::aot {

namespace {

bool isIdentifierCharacter(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

bool isIdentifier(const std::string &text) {
  if (text.empty() || std::isdigit(static_cast<unsigned char>(text[0])))
    return false;
  for (char c : text)
    if (!isIdentifierCharacter(c))
      return false;
  return true;
}

int32_t realDType(ir::Precision precision) {
  return precision == ir::Precision::Double ? RNNC_DTYPE_F64 : RNNC_DTYPE_F32;
}

/// The fields every tensor takes from its per-example type.
TensorDescription tensorOfType(const std::string &name, const ir::Type &type,
                               const codegen::KernelPlan &plan, int32_t role, int32_t layout) {
  TensorDescription tensor;
  tensor.name = name;
  tensor.shape = type.isToken() ? std::vector<int64_t>{} : type.shape;
  tensor.dtype = type.isToken() ? RNNC_DTYPE_I32 : realDType(plan.precision);
  tensor.vocab = type.isToken() ? type.vocab : 0;
  tensor.axis = type.isSequence() ? static_cast<int32_t>(plan.axisIndex(type.axis)) : -1;
  tensor.role = role;
  tensor.layout = layout;
  return tensor;
}

} // namespace

const KernelDescription *LibraryDescription::find(const std::string &kind) const {
  for (const KernelDescription &kernel : kernels)
    if (kernel.kind == kind)
      return &kernel;
  return nullptr;
}

Expected<std::string> symbolPrefix(const std::string &path, const std::string &name) {
  if (!name.empty()) {
    if (!isIdentifier(name))
      return Error::user("--name '" + name +
                         "' is not a C identifier (letters, digits and '_', not starting with a "
                         "digit)");
    return name;
  }
  std::string prefix = std::filesystem::path(path).stem().string();
  for (char &c : prefix)
    if (!isIdentifierCharacter(c))
      c = '_';
  if (prefix.empty() || std::isdigit(static_cast<unsigned char>(prefix[0])))
    prefix = "_" + prefix;
  return prefix;
}

KernelDescription describeKernel(const std::string &prefix, const std::string &kind,
                                 const codegen::KernelPlan &plan) {
  KernelDescription kernel;
  kernel.kind = kind;
  kernel.entry = plan.entryName;
  kernel.workspaceFunction = prefix + "_" + kind + "_workspace_bytes";
  kernel.infoSymbol = prefix + "_" + kind + "_info";
  kernel.dtype = realDType(plan.precision);
  kernel.axes = plan.axes;
  for (const ir::Op *param : plan.params)
    kernel.params.push_back(tensorOfType(param->nameAttr(), param->result()->type(), plan,
                                         RNNC_ROLE_PARAM, RNNC_LAYOUT_UNBATCHED));
  for (size_t i = 0; i < plan.data.size(); ++i) {
    const ir::Op *leaf = plan.data[i];
    int32_t role = leaf->kind() == ir::OpKind::Target ? RNNC_ROLE_TARGET : RNNC_ROLE_INPUT;
    kernel.data.push_back(
        tensorOfType(leaf->nameAttr(), leaf->result()->type(), plan, role, RNNC_LAYOUT_BATCHED));
    kernel.data.back().isPrime = plan.dataIsPrime[i];
  }
  for (const codegen::KernelOutput &output : plan.outputs)
    kernel.outputs.push_back(tensorOfType(output.name, output.type, plan, RNNC_ROLE_OUTPUT,
                                          output.layout == codegen::OutputLayout::PerExample
                                              ? RNNC_LAYOUT_BATCHED
                                              : RNNC_LAYOUT_UNBATCHED));
  for (const ir::Op *op : plan.failingOps)
    kernel.failingOps.push_back({ir::describeOp(*op), backend::failingOpAxis(*op)});

  kernel.workspace.alignment = codegen::kSlotAlignment;
  for (const codegen::WorkspaceSlot &slot : plan.slots)
    kernel.workspace.terms.push_back({slot.bytesPerStep,
                                      slot.isSequence ? static_cast<int32_t>(slot.axis) : -1,
                                      slot.segmentFactor, slot.perExample, slot.prefixSteps});
  return kernel;
}

} // namespace rnnc::aot
