// The GEMM micro-kernel, generated per output width m: out[r, i] = Σ_p A[i, p] x[r, p] for a
// block of rows, A packed in 64-byte panels (runtime/Gemm.h). A product is cut into tiles of
// kTileRows rows × kTilePanels panels, numbered panel block by panel block so that consecutive
// tiles reuse a panel from cache; the runtime hands ranges of tiles to its threads
// (rnnc_rt_parallel_tiles). A tile keeps rows × panels of accumulators in vector registers of
// the target's width (PlanOptions::vectorBytes): per p it loads the panels' vectors once and
// adds x[r, p] times them into every row's accumulators with llvm.fmuladd, then stores the tile,
// after the product's fused epilogue when it has one: activation(addend + acc) (KernelPlan.h).
// Tiles at the edges have fewer rows (the rows left) or run panel by panel (the last panel,
// partial when m is not a multiple of the panel width). A product of fewer rows than a tile (a
// matrix-vector product in a scan over one example) takes wider tiles, so that it still runs
// enough independent FMA chains to hide their latency.
//
// Invariant: every element is one chain of fused multiply-adds over p = 0 … k−1 in order, in any
// tile and on any thread, so results do not depend on the number of threads.
//
// The tile function takes a closure of the product's run-time operands (GemmOperands, one i64 or
// pointer per field, in the order of ClosureField) and a range of tile numbers.
#include "compiler/codegen/EmitContext.h"

#include "runtime/Gemm.h"

#include <algorithm>
#include <map>

namespace rnnc::codegen {

namespace {

enum ClosureField : unsigned {
  RowsField,
  KField,
  PackedField,
  XField,
  XRowStrideField,
  XColumnStrideField,
  OutField,
  OutRowStrideField,
  AddendField,
  AddendRowStrideField,
  FieldCount,
};

/// The register tile for a vector width: its accumulators, the panels' vectors and a broadcast
/// fit the 16 (AVX2) or 32 (AVX-512) vector registers, and its rows divide the usual batch sizes.
struct TileShape {
  int64_t rows, panels;
};
TileShape tileShape(int64_t vectorBytes) {
  if (vectorBytes >= 64)
    return {8, 2}; // 16 accumulators of 32 registers
  if (vectorBytes == 32)
    return {4, 1}; // 8 accumulators (2 per panel) of 16
  return {2, 1};   // 8 accumulators (4 per panel) of 16
}

class GemmFunctionEmitter {
public:
  GemmFunctionEmitter(EmitContext &context, int64_t m, bool hasAddend, ir::OpKind activation)
      : context_(context), builder_(context.builder), m_(m), hasAddend_(hasAddend),
        activation_(activation) {
    int64_t elementBytes = context.plan.precision == ir::Precision::Double ? 8 : 4;
    panelLanes_ = kPanelBytes / elementBytes;
    vectorBytes_ = std::min<int64_t>(context.plan.vectorBytes, kPanelBytes);
    vectorLanes_ = vectorBytes_ / elementBytes;
    vectorsPerPanel_ = panelLanes_ / vectorLanes_;
    vectorType_ = llvm::FixedVectorType::get(context.realType, static_cast<unsigned>(vectorLanes_));
    shape_ = tileShape(vectorBytes_);
    panels_ = (m + panelLanes_ - 1) / panelLanes_;
  }

  llvm::Function *emit() {
    llvm::Type *pointer = context_.pointerType, *index = context_.indexType;
    auto *type = llvm::FunctionType::get(builder_.getVoidTy(), {pointer, index, index}, false);
    std::string name = "rnnc_gemm_m" + std::to_string(m_);
    if (hasAddend_)
      name += activation_ == ir::OpKind::Tanh      ? "_add_tanh"
              : activation_ == ir::OpKind::Sigmoid ? "_add_sigmoid"
                                                   : "_add";
    llvm::Function *function = llvm::Function::Create(type, llvm::Function::InternalLinkage, name,
                                                      context_.module);
    function->addFnAttr(llvm::Attribute::NoUnwind);
    llvm::IRBuilderBase::InsertPointGuard guard(builder_);
    llvm::Function *outer = context_.function;
    context_.function = function;
    builder_.SetInsertPoint(llvm::BasicBlock::Create(context_.llvmContext, "entry", function));
    llvm::Value *closure = function->getArg(0);
    for (unsigned field = 0; field < FieldCount; ++field) {
      bool isPointer =
          field == PackedField || field == XField || field == OutField || field == AddendField;
      fields_[field] = builder_.CreateLoad(
          isPointer ? pointer : index,
          context_.elementPointer(index, closure, context_.index(field)));
    }
    llvm::Value *rowBlocks = ceilDivide(fields_[RowsField], shape_.rows);
    llvm::Value *narrow = isNarrow(fields_[RowsField]);
    llvm::Value *tilePanels = panelsPerTile(fields_[RowsField]);
    context_.emitLoop(
        function->getArg(1), function->getArg(2),
        [&](llvm::Value *tile) {
          llvm::Value *rowBlock = builder_.CreateURem(tile, rowBlocks);
          llvm::Value *r0 = builder_.CreateMul(rowBlock, context_.index(shape_.rows));
          llvm::Value *j0 = builder_.CreateMul(builder_.CreateUDiv(tile, rowBlocks), tilePanels);
          llvm::Value *rowEnd = minimum(builder_.CreateAdd(r0, context_.index(shape_.rows)),
                                        fields_[RowsField]);
          llvm::Value *panelEnd =
              minimum(builder_.CreateAdd(j0, tilePanels), context_.index(panels_));
          // A tile of as many rows as are left (up to kTileRows): all its panels at once when
          // they lie wholly within m, else panel by panel (the last one partial).
          llvm::Value *rowsHere = builder_.CreateSub(rowEnd, r0);
          llvm::Value *wholePanels = builder_.CreateICmpSLE(builder_.CreateAdd(j0, tilePanels),
                                                            context_.index(m_ / panelLanes_));
          auto emitTiles = [&](int64_t rows, int64_t panels) {
            context_.emitIf(wholePanels, [&] { emitTile(rows, panels, r0, j0); });
            context_.emitIf(builder_.CreateNot(wholePanels), [&] {
              context_.emitLoop(
                  j0, panelEnd, [&](llvm::Value *j) { emitTile(rows, 1, r0, j); }, "panel");
            });
          };
          for (int64_t rows = shape_.rows; rows >= 1; --rows) // the full tile first
            context_.emitIf(builder_.CreateICmpEQ(rowsHere, context_.index(rows)), [&] {
              if (rows == shape_.rows) {
                emitTiles(rows, shape_.panels);
                return;
              }
              context_.emitIf(narrow, [&] { emitTiles(rows, widePanels(rows)); });
              context_.emitIf(builder_.CreateNot(narrow),
                              [&] { emitTiles(rows, shape_.panels); });
            });
        },
        "tile");
    builder_.CreateRetVoid();
    context_.function = outer;
    return function;
  }

  /// The number of tiles of a product of `rows` rows.
  llvm::Value *tileCount(llvm::Value *rows) {
    llvm::Value *tilePanels = panelsPerTile(rows);
    return builder_.CreateMul(
        ceilDivide(rows, shape_.rows),
        builder_.CreateUDiv(
            builder_.CreateAdd(context_.index(panels_), builder_.CreateSub(tilePanels,
                                                                           context_.index(1))),
            tilePanels));
  }

private:
  /// A product of fewer rows than a full tile (a batch of 1 in a scan: a matrix-vector product)
  /// is narrow: its tiles take more panels, widePanels(rows), so that a tile still runs about
  /// as many independent fused multiply-add chains as a full one; with one chain per panel the
  /// product would wait on the FMA's latency.
  llvm::Value *isNarrow(llvm::Value *rows) {
    return builder_.CreateICmpSLT(rows, context_.index(shape_.rows));
  }
  int64_t widePanels(int64_t rows) const {
    return std::clamp<int64_t>(shape_.rows * shape_.panels / rows, shape_.panels, kMaxWidePanels);
  }
  static constexpr int64_t kMaxWidePanels = 8;
  /// Panels per tile: widePanels(rows) for a narrow product, else the tile shape's.
  llvm::Value *panelsPerTile(llvm::Value *rows) {
    llvm::Value *panels = context_.index(shape_.panels);
    for (int64_t r = 1; r < shape_.rows; ++r)
      panels = builder_.CreateSelect(builder_.CreateICmpEQ(rows, context_.index(r)),
                                     context_.index(widePanels(r)), panels);
    return panels;
  }

  llvm::Value *ceilDivide(llvm::Value *value, int64_t by) {
    return builder_.CreateUDiv(builder_.CreateAdd(value, context_.index(by - 1)),
                               context_.index(by));
  }
  llvm::Value *minimum(llvm::Value *a, llvm::Value *b) {
    return builder_.CreateSelect(builder_.CreateICmpSLT(a, b), a, b);
  }

  /// rows × panels accumulators over p = 0 … k−1, from row r0 and panel j0, then their stores.
  void emitTile(int64_t rows, int64_t panels, llvm::Value *r0, llvm::Value *j0) {
    int64_t vectors = panels * vectorsPerPanel_;
    llvm::Value *zero = llvm::ConstantFP::get(vectorType_, 0.0);
    llvm::Function *fmuladd = llvm::Intrinsic::getDeclaration(
        &context_.module, llvm::Intrinsic::fmuladd, {vectorType_});
    llvm::Value *k = fields_[KField];
    auto vectorAt = [&](int64_t v, llvm::Value *p) {
      // Panel j0 + v / vectorsPerPanel, step p, vector v % vectorsPerPanel within it.
      llvm::Value *panel = builder_.CreateAdd(j0, context_.index(v / vectorsPerPanel_));
      llvm::Value *offset = builder_.CreateAdd(
          builder_.CreateMul(builder_.CreateAdd(builder_.CreateMul(panel, k), p),
                             context_.index(panelLanes_)),
          context_.index((v % vectorsPerPanel_) * vectorLanes_));
      return builder_.CreateAlignedLoad(
          vectorType_, context_.elementPointer(context_.realType, fields_[PackedField], offset),
          llvm::Align(static_cast<uint64_t>(vectorBytes_)));
    };
    std::vector<llvm::Value *> accumulators = context_.emitReductions(
        k, std::vector<llvm::Value *>(static_cast<size_t>(rows * vectors), zero),
        [&](llvm::Value *p, const std::vector<llvm::Value *> &current) {
          std::vector<llvm::Value *> a, next;
          for (int64_t v = 0; v < vectors; ++v)
            a.push_back(vectorAt(v, p));
          for (int64_t r = 0; r < rows; ++r) {
            llvm::Value *row = builder_.CreateAdd(r0, context_.index(r));
            llvm::Value *xOffset =
                builder_.CreateAdd(builder_.CreateMul(row, fields_[XRowStrideField]),
                                   builder_.CreateMul(p, fields_[XColumnStrideField]));
            llvm::Value *x = builder_.CreateVectorSplat(
                static_cast<unsigned>(vectorLanes_),
                context_.loadReal(fields_[XField], xOffset));
            for (int64_t v = 0; v < vectors; ++v)
              next.push_back(builder_.CreateCall(
                  fmuladd, {x, a[static_cast<size_t>(v)],
                            current[static_cast<size_t>(r * vectors + v)]}));
          }
          return next;
        },
        "gemm.k");
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t v = 0; v < vectors; ++v)
        store(accumulators[static_cast<size_t>(r * vectors + v)],
              builder_.CreateAdd(r0, context_.index(r)),
              builder_.CreateAdd(j0, context_.index(v / vectorsPerPanel_)),
              v % vectorsPerPanel_);
  }

  /// The epilogue on one vector of accumulators: activation(addend + value).
  llvm::Value *finish(llvm::Value *value, llvm::Value *addend) {
    if (!hasAddend_)
      return value;
    value = builder_.CreateFAdd(addend, value);
    if (activation_ == ir::OpKind::Tanh)
      return emitTanh(context_, value);
    if (activation_ == ir::OpKind::Sigmoid)
      return emitSigmoid(context_, value);
    return value;
  }

  /// Stores vector `vector` (of its panel) of row `row` after the epilogue; lanes past m are
  /// dropped (and their addend not read), which only the last panel has.
  void store(llvm::Value *value, llvm::Value *row, llvm::Value *panel, int64_t vector) {
    llvm::Value *column = builder_.CreateAdd(builder_.CreateMul(panel, context_.index(panelLanes_)),
                                             context_.index(vector * vectorLanes_));
    llvm::Value *to = context_.elementPointer(
        context_.realType, fields_[OutField],
        builder_.CreateAdd(builder_.CreateMul(row, fields_[OutRowStrideField]), column));
    llvm::Value *from =
        hasAddend_ ? context_.elementPointer(
                         context_.realType, fields_[AddendField],
                         builder_.CreateAdd(builder_.CreateMul(row, fields_[AddendRowStrideField]),
                                            column))
                   : nullptr;
    llvm::Align elementAlign(context_.realType->getScalarSizeInBits() / 8);
    auto storeWhole = [&] {
      llvm::Value *addend =
          from ? builder_.CreateAlignedLoad(vectorType_, from, elementAlign) : nullptr;
      builder_.CreateAlignedStore(finish(value, addend), to, elementAlign);
    };
    int64_t lastLanes = m_ - (panels_ - 1) * panelLanes_ - vector * vectorLanes_;
    if (lastLanes >= vectorLanes_) {
      storeWhole();
      return;
    }
    llvm::Value *last = builder_.CreateICmpEQ(panel, context_.index(panels_ - 1));
    context_.emitIf(builder_.CreateNot(last), storeWhole);
    context_.emitIf(last, [&] {
      llvm::Value *addend = nullptr;
      if (from) {
        addend = llvm::ConstantFP::get(vectorType_, 0.0);
        for (int64_t lane = 0; lane < lastLanes; ++lane)
          addend = builder_.CreateInsertElement(addend, context_.loadReal(from, context_.index(lane)),
                                                static_cast<uint64_t>(lane));
      }
      llvm::Value *result = finish(value, addend);
      for (int64_t lane = 0; lane < lastLanes; ++lane)
        context_.storeReal(builder_.CreateExtractElement(result, static_cast<uint64_t>(lane)), to,
                           context_.index(lane));
    });
  }

  EmitContext &context_;
  llvm::IRBuilder<> &builder_;
  int64_t m_;
  bool hasAddend_;
  ir::OpKind activation_;
  int64_t panelLanes_ = 0, vectorBytes_ = 0, vectorLanes_ = 0, vectorsPerPanel_ = 0,
              panels_ = 0;
  llvm::VectorType *vectorType_ = nullptr;
  TileShape shape_{};
  llvm::Value *fields_[FieldCount] = {};
};

} // namespace

void emitGemm(EmitContext &context, int64_t m, const GemmOperands &operands) {
  llvm::IRBuilder<> &builder = context.builder;
  bool hasAddend = operands.addend != nullptr;
  GemmFunctionEmitter emitter(context, m, hasAddend, operands.activation);
  llvm::Function *&function = context.gemmFunctions[{m, hasAddend, operands.activation}];
  if (!function)
    function = emitter.emit();
  // The closure lives in the entry block's frame: one per call site.
  llvm::Value *closure;
  {
    llvm::IRBuilderBase::InsertPointGuard guard(builder);
    llvm::BasicBlock &entry = context.function->getEntryBlock();
    builder.SetInsertPoint(&entry, entry.getFirstInsertionPt());
    closure = builder.CreateAlloca(llvm::ArrayType::get(context.indexType, FieldCount));
  }
  llvm::Value *values[FieldCount] = {operands.rows,       operands.k,
                                     operands.packed,     operands.x,
                                     operands.xRowStride, operands.xColumnStride,
                                     operands.out,        operands.outRowStride,
                                     operands.addend,     operands.addendRowStride};
  for (unsigned field = 0; field < FieldCount; ++field)
    if (values[field])
      builder.CreateStore(values[field], context.elementPointer(context.indexType, closure,
                                                                context.index(field)));
  llvm::Value *work =
      builder.CreateMul(builder.CreateMul(operands.rows, operands.k), context.index(m));
  llvm::FunctionCallee parallel = context.runtimeFunction(
      "rnnc_rt_parallel_tiles", builder.getVoidTy(),
      {context.pointerType, context.pointerType, context.pointerType, context.indexType,
       context.indexType});
  builder.CreateCall(parallel, {context.runtimeContext, function, closure,
                                emitter.tileCount(operands.rows), work});
}

} // namespace rnnc::codegen
