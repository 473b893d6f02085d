// emitAbiTables (AbiTables.h). The LLVM struct types mirror the C structs of runtime/AotABI.h
// field for field (non-packed, so the target's data layout places them as its C compiler does).
#include "compiler/aot/AbiTables.h"

#include "runtime/AotABI.h"

#include <llvm/IR/Constants.h>
#include <llvm/IR/DerivedTypes.h>
#include <llvm/IR/GlobalVariable.h>
#include <llvm/IR/IRBuilder.h>

#include <map>

namespace rnnc::aot {

namespace {

class TableEmitter {
public:
  explicit TableEmitter(llvm::Module &module)
      : module_(module), context_(module.getContext()), ptr_(llvm::PointerType::getUnqual(context_)),
        i32_(llvm::Type::getInt32Ty(context_)), i64_(llvm::Type::getInt64Ty(context_)) {
    tensorType_ = llvm::StructType::create(
        context_, {ptr_, ptr_, i32_, i32_, i32_, i32_, i64_, i32_, i32_}, "rnnc_tensor_info");
    failingOpType_ = llvm::StructType::create(context_, {ptr_, ptr_}, "rnnc_failing_op");
    kernelType_ = llvm::StructType::create(context_,
                                           {ptr_, ptr_, ptr_, ptr_, i32_, i32_, ptr_, i32_, i32_,
                                            i32_, i32_, ptr_, ptr_, ptr_, ptr_},
                                           "rnnc_kernel_info");
    modelType_ = llvm::StructType::create(
        context_, {ptr_, ptr_, i32_, i32_, ptr_, ptr_, i32_, i32_, ptr_, ptr_, ptr_, ptr_, ptr_},
        "rnnc_model_info");
  }

  Status emit(const LibraryDescription &library) {
    std::vector<llvm::Constant *> kernels;
    llvm::Constant *forward = null(), *backward = null(), *generate = null();
    for (const KernelDescription &kernel : library.kernels) {
      auto info = emitKernel(kernel);
      if (!info)
        return info.takeError();
      kernels.push_back(*info);
      if (kernel.kind == "forward")
        forward = *info;
      else if (kernel.kind == "backward")
        backward = *info;
      else if (kernel.kind == "generate")
        generate = *info;
    }
    std::vector<llvm::Constant *> dimNames;
    std::vector<int64_t> dimValues;
    for (const auto &[name, value] : library.dims) {
      dimNames.push_back(string(name));
      dimValues.push_back(value);
    }
    const KernelDescription *forwardKernel = library.find("forward");
    int32_t numParams = forwardKernel ? static_cast<int32_t>(forwardKernel->params.size()) : 0;
    llvm::Constant *params = forwardKernel ? paramsTable_.at(forwardKernel) : null();
    llvm::Constant *model = llvm::ConstantStruct::get(
        modelType_, {string(library.modelName), string(library.prefix),
                     int32(RNNC_AOT_ABI_VERSION), int32(library.dims.size()),
                     array(ptr_, dimNames), int64Array(dimValues), int32(kernels.size()),
                     int32(numParams), array(ptr_, kernels), params, forward, backward, generate});
    exported(library.modelSymbol, model);
    return Status::ok();
  }

private:
  Expected<llvm::Constant *> emitKernel(const KernelDescription &kernel) {
    llvm::Function *entry = module_.getFunction(kernel.entry);
    if (!entry || entry->isDeclaration())
      return Error::internal("the module does not define the kernel '" + kernel.entry + "'");
    llvm::Function *workspace = emitWorkspaceFunction(kernel);
    std::vector<llvm::Constant *> axes;
    for (const std::string &axis : kernel.axes)
      axes.push_back(string(axis));
    std::vector<llvm::Constant *> failing;
    for (const FailingOpDescription &op : kernel.failingOps)
      failing.push_back(
          llvm::ConstantStruct::get(failingOpType_, {string(op.where), string(op.axis)}));
    llvm::Constant *params = tensors(kernel.params);
    paramsTable_[&kernel] = params;
    llvm::Constant *info = llvm::ConstantStruct::get(
        kernelType_,
        {string(kernel.kind), string(kernel.entry), entry, workspace, int32(kernel.dtype),
         int32(kernel.axes.size()), array(ptr_, axes), int32(kernel.params.size()),
         int32(kernel.data.size()), int32(kernel.outputs.size()), int32(failing.size()), params,
         tensors(kernel.data), tensors(kernel.outputs), array(failingOpType_, failing)});
    return exported(kernel.infoSymbol, info);
  }

  /// int64_t F(int64_t batch, const int64_t *padded): WorkspaceFormula, term by term.
  llvm::Function *emitWorkspaceFunction(const KernelDescription &kernel) {
    auto *type = llvm::FunctionType::get(i64_, {i64_, ptr_}, false);
    llvm::Function *function = llvm::Function::Create(type, llvm::Function::ExternalLinkage,
                                                      kernel.workspaceFunction, module_);
    function->addFnAttr(llvm::Attribute::NoUnwind);
    llvm::IRBuilder<> builder(llvm::BasicBlock::Create(context_, "entry", function));
    llvm::Value *padded = function->getArg(1);
    const WorkspaceFormula &formula = kernel.workspace;
    llvm::Value *bytes = builder.getInt64(0);
    for (const WorkspaceFormula::Term &term : formula.terms) {
      llvm::Value *rows = term.perExample ? static_cast<llvm::Value *>(function->getArg(0))
                                          : builder.getInt64(1);
      if (term.axis >= 0) {
        llvm::Value *length = builder.CreateLoad(
            i64_,
            builder.CreateConstInBoundsGEP1_64(i64_, padded, static_cast<uint64_t>(term.axis)));
        rows = builder.CreateMul(
            rows, builder.CreateAdd(
                      builder.CreateSDiv(builder.CreateAdd(length, builder.getInt64(term.factor - 1)),
                                         builder.getInt64(term.factor)),
                      builder.getInt64(term.prefixSteps)));
      }
      llvm::Value *termBytes = builder.CreateMul(rows, builder.getInt64(term.bytesPerStep));
      llvm::Value *rounded = builder.CreateMul(
          builder.CreateSDiv(builder.CreateAdd(termBytes, builder.getInt64(formula.alignment - 1)),
                             builder.getInt64(formula.alignment)),
          builder.getInt64(formula.alignment));
      bytes = builder.CreateAdd(bytes, rounded);
    }
    builder.CreateRet(bytes);
    return function;
  }

  llvm::Constant *tensors(const std::vector<TensorDescription> &descriptions) {
    std::vector<llvm::Constant *> entries;
    for (const TensorDescription &tensor : descriptions)
      entries.push_back(llvm::ConstantStruct::get(
          tensorType_, {string(tensor.name), int64Array(tensor.shape), int32(tensor.shape.size()),
                        int32(tensor.dtype), int32(tensor.axis), int32(tensor.layout),
                        llvm::ConstantInt::get(i64_, tensor.vocab), int32(tensor.role),
                        int32(tensor.isPrime ? 1 : 0)}));
    return array(tensorType_, entries);
  }

  llvm::Constant *null() { return llvm::ConstantPointerNull::get(ptr_); }
  llvm::Constant *int32(size_t value) { return llvm::ConstantInt::get(i32_, value); }
  llvm::Constant *int32(int32_t value) { return llvm::ConstantInt::get(i32_, value, true); }

  llvm::Constant *privateConstant(llvm::Constant *initializer, const char *name) {
    auto *global = new llvm::GlobalVariable(module_, initializer->getType(), /*isConstant=*/true,
                                            llvm::GlobalValue::PrivateLinkage, initializer, name);
    global->setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::Global);
    return global;
  }

  llvm::Constant *string(const std::string &text) {
    return privateConstant(llvm::ConstantDataArray::getString(context_, text), "rnnc.str");
  }

  /// A private array of `elements`, or null when there are none.
  llvm::Constant *array(llvm::Type *element, const std::vector<llvm::Constant *> &elements) {
    if (elements.empty())
      return null();
    return privateConstant(
        llvm::ConstantArray::get(llvm::ArrayType::get(element, elements.size()), elements),
        "rnnc.table");
  }

  llvm::Constant *int64Array(const std::vector<int64_t> &values) {
    if (values.empty())
      return null();
    std::vector<uint64_t> raw(values.begin(), values.end());
    return privateConstant(llvm::ConstantDataArray::get(context_, raw), "rnnc.shape");
  }

  llvm::Constant *exported(const std::string &symbol, llvm::Constant *initializer) {
    return new llvm::GlobalVariable(module_, initializer->getType(), /*isConstant=*/true,
                                    llvm::GlobalValue::ExternalLinkage, initializer, symbol);
  }

  llvm::Module &module_;
  llvm::LLVMContext &context_;
  llvm::PointerType *ptr_;
  llvm::IntegerType *i32_, *i64_;
  llvm::StructType *tensorType_, *failingOpType_, *kernelType_, *modelType_;
  std::map<const KernelDescription *, llvm::Constant *> paramsTable_;
};

} // namespace

Status emitAbiTables(const LibraryDescription &library, llvm::Module &module) {
  return TableEmitter(module).emit(library);
}

} // namespace rnnc::aot
