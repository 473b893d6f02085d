// JitBackend (JitBackend.h): checks the batch, compiles or finds the kernel, converts the tensors
// to the kernel's precision, fills the argument block (runtime/KernelABI.h), runs the kernel and
// turns a recorded run-time error into the interpreter's message.
#include "compiler/jit/JitBackend.h"

#include "compiler/jit/JitCompiler.h"

#include <map>
#include <new>
#include <sstream>
#include <utility>

namespace rnnc::jit {

namespace {

using codegen::KernelPlan;
using codegen::OutputLayout;

/// A 64-byte aligned block of bytes that grows as kernels need more.
class Workspace {
public:
  ~Workspace() { release(); }
  void *reserve(int64_t bytes) {
    if (bytes > capacity_) {
      release();
      memory_ = ::operator new(static_cast<size_t>(bytes), std::align_val_t(64));
      capacity_ = bytes;
    }
    return memory_;
  }

private:
  void release() {
    if (memory_)
      ::operator delete(memory_, std::align_val_t(64));
    memory_ = nullptr;
    capacity_ = 0;
  }
  void *memory_ = nullptr;
  int64_t capacity_ = 0;
};

std::string formatReal(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

/// The interpreter's message for an error a kernel recorded (ir/InterpretOps.cpp,
/// ir/InterpretExample.cpp).
Error kernelError(const KernelPlan &plan, const KernelError &error) {
  if (error.opId < 0 || static_cast<size_t>(error.opId) >= plan.failingOps.size())
    return Error::internal("a kernel reported an error for an unknown op");
  const ir::Op &op = *plan.failingOps[static_cast<size_t>(error.opId)];
  std::string where = codegen::describeOp(op);
  auto axisOf = [&]() -> std::string {
    return op.kind() == ir::OpKind::Stack ? op.result()->type().axis : op.operand(0)->type().axis;
  };
  switch (error.code) {
  case KernelErrorCode::BadProbability:
    return Error::user(where + ": cannot sample from probability " + formatReal(error.value) +
                       " at index " + std::to_string(error.first));
  case KernelErrorCode::ZeroProbabilities:
    return Error::user(where + ": cannot sample from probabilities that sum to zero");
  case KernelErrorCode::StepOutOfRange:
    return Error::user(where + " reads step " + std::to_string(error.first) + " of axis '" +
                       axisOf() + "', but the example has " + std::to_string(error.second) +
                       " steps");
  case KernelErrorCode::StackLengthMismatch:
    return Error::user(where + " stacks " + std::to_string(error.first) + " steps on axis '" +
                       axisOf() + "', but the example has " + std::to_string(error.second) +
                       " steps");
  case KernelErrorCode::None:
    break;
  }
  return Error::internal("a kernel reported an unknown error");
}

class JitBackend final : public backend::Backend {
public:
  explicit JitBackend(std::unique_ptr<JitCompiler> compiler) : compiler_(std::move(compiler)) {}

  std::string name() const override { return "jit"; }

  Expected<TensorMap> run(const ir::Graph &graph, const ir::Batch &batch,
                          const ir::RunOptions &options) override {
    auto shape = ir::checkBatch(graph, batch);
    if (!shape)
      return shape.takeError();
    auto kernel = kernelFor(graph, options.precision);
    if (!kernel)
      return kernel.takeError();
    return execute(**kernel, batch, *shape, options);
  }

private:
  Expected<const CompiledKernel *> kernelFor(const ir::Graph &graph, ir::Precision precision) {
    auto key = std::make_pair(&graph, precision);
    auto found = kernels_.find(key);
    if (found != kernels_.end())
      return found->second.get();
    auto compiled = compiler_->compile(graph, precision);
    if (!compiled)
      return compiled.takeError();
    return (kernels_[key] = compiled.take()).get();
  }

  Expected<TensorMap> execute(const CompiledKernel &kernel, const ir::Batch &batch,
                              const ir::BatchShape &shape, const ir::RunOptions &options) {
    const KernelPlan &plan = kernel.plan;
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
      paramPointers.push_back(pointerTo(params.at(param->stringAttr("name"))));
    std::vector<int64_t> dataSteps;
    for (const ir::Op *leaf : plan.data) {
      auto tensor = data.find(leaf->stringAttr("name"));
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

    KernelRuntime runtime;
    runtime.seed = options.seed;
    runtime.greedy = options.greedy;
    rnnc_rt_kernel_args args{};
    args.batchSize = batchSize;
    args.paddedLengths = padded.data();
    args.lengths = lengths.data();
    args.primeLengths = primeLengths.data();
    args.params = paramPointers.data();
    args.data = dataPointers.data();
    args.dataSteps = dataSteps.data();
    args.outputs = outputPointers.data();
    args.workspace = workspace_.reserve(plan.workspaceBytes(batchSize, padded));
    args.runtime = asContext(runtime);
    kernel.function(&args);
    if (runtime.error.code != KernelErrorCode::None)
      return kernelError(plan, runtime.error);
    return outputs;
  }

  std::unique_ptr<JitCompiler> compiler_;
  std::map<std::pair<const ir::Graph *, ir::Precision>, std::unique_ptr<CompiledKernel>> kernels_;
  Workspace workspace_;
};

} // namespace

Expected<std::unique_ptr<backend::Backend>> createJitBackend() {
  auto compiler = JitCompiler::create();
  if (!compiler)
    return compiler.takeError();
  return std::unique_ptr<backend::Backend>(std::make_unique<JitBackend>(compiler.take()));
}

} // namespace rnnc::jit
