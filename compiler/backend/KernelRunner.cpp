// KernelRunner (KernelRunner.h): the marshalling between tensors and the kernel argument block.
#include "compiler/backend/KernelRunner.h"

#include "runtime/KernelErrorMessage.h"

#include <new>

namespace rnnc::backend {

using codegen::KernelPlan;
using codegen::OutputLayout;

std::string failingOpAxis(const ir::Op &op) {
  return op.kind() == ir::OpKind::Stack ? op.result()->type().axis : op.operand(0)->type().axis;
}

Error kernelError(const KernelPlan &plan, const KernelError &error) {
  if (error.opId < 0 || static_cast<size_t>(error.opId) >= plan.failingOps.size())
    return Error::internal("a kernel reported an error for an unknown op");
  const ir::Op &op = *plan.failingOps[static_cast<size_t>(error.opId)];
  auto message = kernelErrorMessage(error, ir::describeOp(op), failingOpAxis(op));
  if (!message)
    return Error::internal("a kernel reported an unknown error");
  return Error::user(*message);
}

KernelRunner::~KernelRunner() {
  if (workspace_)
    ::operator delete(workspace_, std::align_val_t(64));
}

void *KernelRunner::reserveWorkspace(int64_t bytes) {
  if (bytes > workspaceCapacity_) {
    if (workspace_)
      ::operator delete(workspace_, std::align_val_t(64));
    workspace_ = ::operator new(static_cast<size_t>(bytes), std::align_val_t(64));
    workspaceCapacity_ = bytes;
  }
  return workspace_;
}

Expected<TensorMap> KernelRunner::run(const RunnableKernel &kernel, const ir::Batch &batch,
                                      const ir::BatchShape &shape,
                                      const ir::RunOptions &options) {
  const KernelPlan &plan = *kernel.plan;
  DType real = plan.precision == ir::Precision::Double ? DType::F64 : DType::F32;
  static const TensorMap none;
  const TensorMap &params = batch.params ? *batch.params : none;
  const TensorMap &data = batch.data ? *batch.data : none;
  int64_t batchSize = shape.batchSize;

  // Tensors in another real precision are converted; the copies live until the call returns.
  std::vector<Tensor> converted;
  converted.reserve(plan.params.size() + plan.data.size());
  auto pointerTo = [&](const Tensor &tensor) -> void * {
    if (tensor.dtype() == DType::I32 || tensor.dtype() == real)
      return const_cast<std::byte *>(tensor.bytes());
    converted.push_back(tensor.convert(real));
    return converted.back().bytes();
  };
  std::vector<void *> paramPointers, dataPointers;
  for (const ir::Op *param : plan.params)
    paramPointers.push_back(pointerTo(params.at(param->nameAttr())));
  std::vector<int64_t> dataSteps;
  for (const ir::Op *leaf : plan.data) {
    auto tensor = data.find(leaf->nameAttr());
    bool present = tensor != data.end();
    dataPointers.push_back(present ? pointerTo(tensor->second) : nullptr);
    dataSteps.push_back(present && leaf->result()->type().isSequence() ? tensor->second.shape()[0]
                                                                       : 0);
  }

  std::vector<int64_t> padded, lengths, primeLengths;
  for (const std::string &axis : plan.axes) {
    padded.push_back(shape.paddedLengths.at(axis));
    const std::vector<int64_t> &axisLengths = shape.lengths.at(axis);
    lengths.insert(lengths.end(), axisLengths.begin(), axisLengths.end());
    auto primes = shape.primeLengths.find(axis);
    if (primes != shape.primeLengths.end())
      primeLengths.insert(primeLengths.end(), primes->second.begin(), primes->second.end());
    else
      primeLengths.insert(primeLengths.end(), static_cast<size_t>(batchSize), 0);
  }

  TensorMap outputs;
  std::vector<void *> outputPointers;
  for (const codegen::KernelOutput &output : plan.outputs) {
    std::vector<int64_t> dims;
    if (output.layout == OutputLayout::PerExample) {
      if (output.type.isSequence())
        dims.push_back(shape.paddedLengths.at(output.type.axis));
      dims.push_back(batchSize);
    }
    dims.insert(dims.end(), output.type.shape.begin(), output.type.shape.end());
    auto [slot, inserted] =
        outputs.emplace(output.name, Tensor(output.type.isToken() ? DType::I32 : real, dims));
    if (!inserted)
      return Error::internal("two outputs are named '" + output.name + "'");
    outputPointers.push_back(slot->second.bytes());
  }

  int64_t workspaceBytes = plan.workspaceBytes(batchSize, padded);
  if (kernel.workspaceBytes) {
    int64_t compiled = kernel.workspaceBytes(batchSize, padded.data());
    if (compiled != workspaceBytes)
      return Error::internal("the compiled workspace size query of '" + plan.entryName +
                             "' gives " + std::to_string(compiled) + " bytes, the plan " +
                             std::to_string(workspaceBytes));
  }

  KernelRuntime runtime;
  runtime.seed = options.seed;
  runtime.greedy = options.greedy;
  if (options.threads > 1) {
    if (!pool_ || pool_->size() != options.threads)
      pool_ = std::make_unique<ThreadPool>(options.threads);
    runtime.pool = pool_.get();
  }
  rnnc_rt_kernel_args args{};
  args.batchSize = batchSize;
  args.paddedLengths = padded.data();
  args.lengths = lengths.data();
  args.primeLengths = primeLengths.data();
  args.params = paramPointers.data();
  args.data = dataPointers.data();
  args.dataSteps = dataSteps.data();
  args.outputs = outputPointers.data();
  args.workspace = reserveWorkspace(workspaceBytes);
  args.runtime = asContext(runtime);
  kernel.entry(&args);
  if (runtime.error.code != KernelErrorCode::None)
    return kernelError(plan, runtime.error);
  return outputs;
}

} // namespace rnnc::backend
