// The tables of an ahead-of-time compiled model, read through the C structs of runtime/AotABI.h
// from a linked and loaded object: they agree with the kernel plans field for field (so the LLVM
// types of compiler/aot/AbiTables.cpp lay out as the C compiler lays out the structs), the
// workspace size functions agree with KernelPlan::workspaceBytes, and a recorded kernel error
// reads as the JIT's message through rnnc_rt_error_message.
#include "compiler/aot/MachineCode.h"
#include "compiler/aot/ModelLibrary.h"
#include "compiler/aot/SharedLibrary.h"
#include "compiler/backend/KernelRunner.h"
#include "compiler/codegen/Target.h"
#include "runtime/AotABI.h"
#include "runtime/KernelABI.h"

#include "test/unit/ExampleModels.h"

#include <gtest/gtest.h>

#include <cstring>

namespace rnnc {
namespace {

struct LoadedLibrary {
  std::unique_ptr<ir::Module> module;
  aot::ModelLibrary library;
  std::unique_ptr<aot::SharedLibrary> shared;
  const rnnc_model_info *model = nullptr;
};

/// examples/<name>.rnn with small dims, compiled as `rnnc compile` does with prefix "t", linked
/// and loaded.
std::unique_ptr<LoadedLibrary> load(const std::string &name, ir::Precision precision) {
  auto loaded = std::make_unique<LoadedLibrary>();
  loaded->module = test_support::loadSmallModel(test_support::examplePath(name), 7);
  EXPECT_NE(loaded->module, nullptr);
  if (!loaded->module)
    return nullptr;
  auto graphs = aot::libraryGraphs(*loaded->module, {});
  EXPECT_TRUE(graphs) << graphs.error().message;
  auto machine = codegen::createTargetMachine({});
  EXPECT_TRUE(machine) << machine.error().message;
  if (!graphs || !machine)
    return nullptr;
  aot::LibraryOptions options;
  options.prefix = "t";
  options.source = name + ".rnn";
  options.precision = precision;
  auto library = aot::compileLibrary(*loaded->module, *graphs, options, **machine);
  EXPECT_TRUE(library) << library.error().message;
  if (!library)
    return nullptr;
  loaded->library = library.take();
  auto object =
      aot::emitMachineCode(*loaded->library.module, **machine, aot::MachineCodeKind::Object);
  EXPECT_TRUE(object) << object.error().message;
  if (!object)
    return nullptr;
  auto shared = aot::SharedLibrary::link(*object);
  EXPECT_TRUE(shared) << shared.error().message;
  if (!shared)
    return nullptr;
  loaded->shared = shared.take();
  loaded->model = static_cast<const rnnc_model_info *>(loaded->shared->symbol("t_model"));
  EXPECT_NE(loaded->model, nullptr);
  return loaded->model ? std::move(loaded) : nullptr;
}

void expectTensor(const rnnc_tensor_info &actual, const std::string &name, const ir::Type &type,
                  int32_t role) {
  SCOPED_TRACE(name);
  EXPECT_STREQ(actual.name, name.c_str());
  EXPECT_EQ(actual.role, role);
  ASSERT_EQ(actual.rank, type.isToken() ? 0 : type.rank());
  for (int32_t i = 0; i < actual.rank; ++i)
    EXPECT_EQ(actual.shape[i], type.shape[static_cast<size_t>(i)]);
  EXPECT_EQ(actual.vocab, type.isToken() ? type.vocab : 0);
  EXPECT_EQ(actual.axis >= 0, type.isSequence());
  EXPECT_EQ(actual.dtype == RNNC_DTYPE_I32, type.isToken());
}

TEST(AotLibraryTest, TablesMatchThePlans) {
  auto loaded = load("seq2seq", ir::Precision::Double);
  ASSERT_NE(loaded, nullptr);
  const rnnc_model_info &model = *loaded->model;
  EXPECT_STREQ(model.name, loaded->module->name().c_str());
  EXPECT_STREQ(model.prefix, "t");
  EXPECT_EQ(model.abi_version, RNNC_AOT_ABI_VERSION);
  ASSERT_EQ(model.num_dims, static_cast<int32_t>(loaded->module->dims().size()));
  for (int32_t i = 0; i < model.num_dims; ++i) {
    EXPECT_EQ(model.dim_names[i], loaded->module->dims()[static_cast<size_t>(i)].first);
    EXPECT_EQ(model.dim_values[i], loaded->module->dims()[static_cast<size_t>(i)].second);
  }
  const std::vector<codegen::KernelPlan> &plans = loaded->library.plans;
  ASSERT_EQ(model.num_kernels, static_cast<int32_t>(plans.size()));
  ASSERT_NE(model.forward, nullptr);
  ASSERT_NE(model.backward, nullptr);
  EXPECT_EQ(model.params, model.forward->params);
  EXPECT_EQ(model.num_params, model.forward->num_params);
  for (size_t k = 0; k < plans.size(); ++k) {
    const rnnc_kernel_info &kernel = *model.kernels[k];
    const codegen::KernelPlan &plan = plans[k];
    SCOPED_TRACE(kernel.name);
    EXPECT_EQ(std::string("t_") + kernel.name, kernel.entry_name);
    EXPECT_EQ(reinterpret_cast<void *>(kernel.entry), loaded->shared->symbol(kernel.entry_name));
    EXPECT_EQ(kernel.dtype, RNNC_DTYPE_F64);
    ASSERT_EQ(kernel.num_axes, static_cast<int32_t>(plan.axes.size()));
    for (size_t a = 0; a < plan.axes.size(); ++a)
      EXPECT_EQ(kernel.axes[a], plan.axes[a]);
    ASSERT_EQ(kernel.num_params, static_cast<int32_t>(plan.params.size()));
    for (size_t i = 0; i < plan.params.size(); ++i)
      expectTensor(kernel.params[i], plan.params[i]->nameAttr(), plan.params[i]->result()->type(),
                   RNNC_ROLE_PARAM);
    ASSERT_EQ(kernel.num_data, static_cast<int32_t>(plan.data.size()));
    for (size_t i = 0; i < plan.data.size(); ++i) {
      const ir::Op &leaf = *plan.data[i];
      expectTensor(kernel.data[i], leaf.nameAttr(), leaf.result()->type(),
                   leaf.kind() == ir::OpKind::Target ? RNNC_ROLE_TARGET : RNNC_ROLE_INPUT);
      EXPECT_EQ(kernel.data[i].is_prime != 0, plan.dataIsPrime[i]);
    }
    ASSERT_EQ(kernel.num_outputs, static_cast<int32_t>(plan.outputs.size()));
    for (size_t i = 0; i < plan.outputs.size(); ++i) {
      expectTensor(kernel.outputs[i], plan.outputs[i].name, plan.outputs[i].type,
                   RNNC_ROLE_OUTPUT);
      EXPECT_EQ(kernel.outputs[i].layout == RNNC_LAYOUT_UNBATCHED,
                plan.outputs[i].layout == codegen::OutputLayout::SummedOverBatch);
    }
    ASSERT_EQ(kernel.num_failing_ops, static_cast<int32_t>(plan.failingOps.size()));
    // Two axes with different lengths: each term of the size reads its own axis.
    for (int64_t batch : {1, 3})
      for (std::vector<int64_t> padded : {std::vector<int64_t>{1, 1}, {5, 2}, {2, 9}}) {
        padded.resize(plan.axes.size());
        EXPECT_EQ(kernel.workspace_bytes(batch, padded.data()),
                  plan.workspaceBytes(batch, padded));
      }
  }
}

TEST(AotLibraryTest, ErrorMessagesAreTheJitsAndTensorSizesFollowTheLayout) {
  auto loaded = load("elman", ir::Precision::Float);
  ASSERT_NE(loaded, nullptr);
  const rnnc_kernel_info *generate = loaded->model->generate;
  ASSERT_NE(generate, nullptr);
  const codegen::KernelPlan &plan = loaded->library.plans.back();
  ASSERT_GT(generate->num_failing_ops, 0);

  rnnc_rt_context *context = rnnc_rt_context_create(3, 0);
  ASSERT_NE(context, nullptr);
  char message[512];
  EXPECT_EQ(rnnc_rt_error_message(context, generate, message, sizeof message), 0);
  EXPECT_STREQ(message, "");
  KernelError error{KernelErrorCode::BadProbability, 0, 4, 0, -0.5};
  reinterpret_cast<KernelRuntime *>(context)->error = error;
  EXPECT_EQ(rnnc_rt_error_message(context, generate, message, sizeof message),
            static_cast<int32_t>(KernelErrorCode::BadProbability));
  EXPECT_EQ(std::string(message), backend::kernelError(plan, error).message);
  // A short buffer gets the start of the message, terminated.
  EXPECT_NE(rnnc_rt_error_message(context, generate, message, 8), 0);
  EXPECT_EQ(std::strlen(message), 7u);
  rnnc_rt_context_reset(context, 3, 0);
  EXPECT_EQ(rnnc_rt_error_message(context, generate, message, sizeof message), 0);
  rnnc_rt_context_destroy(context);

  const rnnc_kernel_info *forward = loaded->model->forward;
  ASSERT_NE(forward, nullptr);
  for (int32_t i = 0; i < forward->num_outputs; ++i) {
    const rnnc_tensor_info &output = forward->outputs[i];
    int64_t perExample = 1;
    for (int32_t d = 0; d < output.rank; ++d)
      perExample *= output.shape[d];
    int64_t expected = std::string(output.name) == "loss" ? 1 : perExample * 3 * 5;
    EXPECT_EQ(rnnc_rt_tensor_elements(&output, 3, 5), expected) << output.name;
  }
}

} // namespace
} // namespace rnnc
