// Linear algebra. Batched products (KernelPlan.h) run on the generated GEMM micro-kernel
// (GemmEmitter.cpp) with their shared operand packed by the runtime (runtime/Gemm.h): a matmul
// over the rows of all examples, the packing of its left operand (once, where it is computed, when
// that is outside scans), and
// a sum_outer summed over the batch as one product over the valid (t, b) rows, gathered first:
// a's rows as they are, b's rows straight into packed panels. A product with a one-hot vector
// (a character model's input projection) is a copy of one column out of the packed panels.
//
// Per example (matmul, transpose, outer) on row-major static shapes. The loop orders are
// chosen for the vectoriser: a matrix-vector product is a dot product per row, an
// llvm.fmuladd reduction over contiguous elements with reassociation allowed (so it becomes
// <8 x float> FMAs into split accumulators); a product with a folded transpose (Wᵀ δ in the
// backward) accumulates rows of W scaled by δ's elements; a matrix-matrix product runs i, p, j
// so the inner loop streams contiguous rows of both the right operand and the result.
#include "compiler/codegen/EmitContext.h"

#include "runtime/Gemm.h"

#include <algorithm>

namespace rnnc::codegen {

using ir::OpKind;

namespace {

/// y[m] = A[m, k] x[k].
void emitMatrixVector(EmitContext &context, llvm::Value *y, llvm::Value *a, llvm::Value *x,
                      int64_t rows, int64_t columns) {
  llvm::IRBuilder<> &builder = context.builder;
  context.emitLoop(
      rows,
      [&](llvm::Value *i) {
        llvm::Value *row = context.elementPointer(context.realType, a,
                                                  builder.CreateMul(i, context.index(columns)));
        llvm::Value *dot = context.emitReduction(
            columns, context.real(0),
            [&](llvm::Value *k, llvm::Value *accumulator) {
              return context.multiplyAdd(context.loadReal(row, k), context.loadReal(x, k),
                                         accumulator);
            },
            "matvec.dot");
        context.storeReal(dot, y, i);
      },
      "matvec.row");
}

/// y[m] = Aᵀ x for A stored [k, m]: y accumulates x[i] times row i of A, so the inner loop runs
/// over contiguous elements without a reduction.
void emitTransposedMatrixVector(EmitContext &context, llvm::Value *y, llvm::Value *a,
                                llvm::Value *x, int64_t rows, int64_t columns) {
  llvm::IRBuilder<> &builder = context.builder;
  context.zeroElements(context.realType, y, context.index(rows));
  context.emitLoop(
      columns,
      [&](llvm::Value *i) {
        llvm::Value *xi = context.loadReal(x, i);
        llvm::Value *row =
            context.elementPointer(context.realType, a, builder.CreateMul(i, context.index(rows)));
        context.emitLoop(
            rows,
            [&](llvm::Value *j) {
              context.storeReal(
                  context.multiplyAdd(context.loadReal(row, j), xi, context.loadReal(y, j)), y, j);
            },
            "matvec.t.row");
      },
      "matvec.t.column");
}

/// C[m, n] = A[m, k] B[k, n], or Aᵀ B for A stored [k, m] when `transposed`.
void emitMatrixMatrix(EmitContext &context, llvm::Value *c, llvm::Value *a, llvm::Value *b,
                      int64_t rows, int64_t inner, int64_t columns, bool transposed) {
  llvm::IRBuilder<> &builder = context.builder;
  context.zeroElements(context.realType, c, context.index(rows * columns));
  context.emitLoop(
      rows,
      [&](llvm::Value *i) {
        llvm::Value *cRow = context.elementPointer(context.realType, c,
                                                   builder.CreateMul(i, context.index(columns)));
        context.emitLoop(
            inner,
            [&](llvm::Value *p) {
              llvm::Value *aip = context.loadReal(
                  a, transposed ? builder.CreateAdd(builder.CreateMul(p, context.index(rows)), i)
                                : builder.CreateAdd(builder.CreateMul(i, context.index(inner)), p));
              llvm::Value *bRow = context.elementPointer(
                  context.realType, b, builder.CreateMul(p, context.index(columns)));
              context.emitLoop(
                  columns,
                  [&](llvm::Value *j) {
                    llvm::Value *sum =
                        builder.CreateFAdd(context.loadReal(cRow, j),
                                           builder.CreateFMul(aip, context.loadReal(bRow, j)));
                    context.storeReal(sum, cRow, j);
                  },
                  "j");
            },
            "p");
      },
      "i");
}

} // namespace

Status emitLinearAlgebraOp(EmitContext &context, const ir::Op &op, llvm::Value *result,
                           const std::vector<llvm::Value *> &operands) {
  llvm::IRBuilder<> &builder = context.builder;
  switch (op.kind()) {
  case OpKind::MatMul: {
    const std::vector<int64_t> &left = op.operand(0)->type().shape;
    const std::vector<int64_t> &right = op.operand(1)->type().shape;
    if (left.size() != 2 || right.empty() || right.size() > 2)
      return Error::internal(describeOp(op) + ": unexpected operand shapes");
    // A folded transpose left operands[0] pointing at the untransposed matrix [k, m].
    const ir::Op *producer = op.operand(0)->definingOp();
    bool transposed = producer && context.plan.foldedTransposes.count(producer);
    if (right.size() == 2)
      emitMatrixMatrix(context, result, operands[0], operands[1], left[0], left[1], right[1],
                       transposed);
    else if (transposed)
      emitTransposedMatrixVector(context, result, operands[0], operands[1], left[0], left[1]);
    else
      emitMatrixVector(context, result, operands[0], operands[1], left[0], left[1]);
    return Status::ok();
  }
  case OpKind::Transpose: {
    const std::vector<int64_t> &shape = op.operand(0)->type().shape;
    int64_t rows = shape[0], columns = shape[1];
    context.emitLoop(rows, [&](llvm::Value *i) {
      context.emitLoop(
          columns,
          [&](llvm::Value *j) {
            llvm::Value *from = builder.CreateAdd(builder.CreateMul(i, context.index(columns)), j);
            llvm::Value *to = builder.CreateAdd(builder.CreateMul(j, context.index(rows)), i);
            context.storeReal(context.loadReal(operands[0], from), result, to);
          },
          "j");
    });
    return Status::ok();
  }
  case OpKind::Outer: {
    int64_t rows = op.operand(0)->type().numElements();
    int64_t columns = op.operand(1)->type().numElements();
    context.emitLoop(rows, [&](llvm::Value *i) {
      llvm::Value *ai = context.loadReal(operands[0], i);
      llvm::Value *row = context.elementPointer(context.realType, result,
                                                builder.CreateMul(i, context.index(columns)));
      context.emitLoop(
          columns,
          [&](llvm::Value *j) {
            context.storeReal(builder.CreateFMul(ai, context.loadReal(operands[1], j)), row, j);
          },
          "j");
    });
    return Status::ok();
  }
  default:
    return Error::internal(describeOp(op) + ": not a linear algebra op");
  }
}

namespace {

const char *realSuffix(EmitContext &context) {
  return context.plan.precision == ir::Precision::Double ? "_f64" : "_f32";
}

/// Packs the left operand of `op` (planned batched) into its pack slot.
void emitPack(EmitContext &context, const ir::Op &op, const BatchedMatMul &product) {
  const std::vector<int64_t> &shape = op.operand(0)->type().shape;
  int64_t m = shape[0], k = shape[1];
  llvm::FunctionCallee pack = context.runtimeFunction(
      std::string("rnnc_rt_pack") + realSuffix(context), context.builder.getVoidTy(),
      {context.pointerType, context.pointerType, context.indexType, context.indexType,
       context.indexType, context.indexType});
  // Not transposed: A[i, p] at i k + p. Transposed: `packed` is Aᵀ stored [k, m], A[i, p] at p m + i.
  int64_t strideI = product.transposed ? 1 : k, strideP = product.transposed ? m : 1;
  context.builder.CreateCall(pack, {context.slotPointers[product.packSlot],
                                    context.storageOf(product.packed).base, context.index(m),
                                    context.index(k), context.index(strideI),
                                    context.index(strideP)});
}

} // namespace

void emitPacksOf(EmitContext &context, const ir::Value *value) {
  std::vector<std::pair<size_t, const ir::Op *>> packs;
  for (const auto &[op, product] : context.plan.batchedMatMuls)
    if (product.packOnce && product.packed == value)
      packs.emplace_back(product.packSlot, op);
  std::sort(packs.begin(), packs.end(), [](const auto &a, const auto &b) {
    return a.first < b.first || (a.first == b.first && a.second->location().str() <
                                                           b.second->location().str());
  });
  for (size_t i = 0; i < packs.size(); ++i)
    if (i == 0 || packs[i].first != packs[i - 1].first)
      emitPack(context, *packs[i].second, context.plan.batchedMatMuls.at(packs[i].second));
}

namespace {

/// A * onehot(x) is column x of A: for every row with step t (an example's own steps), the
/// column is copied out of the packed panels (lane l of panel j at step x), the epilogue applied.
/// Exactly the product's value (a sum of zeros and one element), without its k multiply-adds.
void emitOneHotProduct(EmitContext &context, const ir::Op &op, const BatchedMatMul &product,
                       const ir::Value &tokens, const Storage &out) {
  llvm::IRBuilder<> &builder = context.builder;
  const std::vector<int64_t> &shape = op.operand(0)->type().shape;
  int64_t m = shape[0], k = shape[1];
  int64_t lanes = kPanelBytes / (context.plan.precision == ir::Precision::Double ? 8 : 4);
  llvm::Value *packed = context.slotPointers[product.packSlot];
  const ir::Type &resultType = op.result()->type();
  auto emitRow = [&](llvm::Value *t) {
    llvm::Value *id = builder.CreateSExt(
        builder.CreateLoad(context.tokenType, context.stepPointer(&tokens, t)), context.indexType);
    llvm::Value *to = context.stepPointer(out, context.realType, t);
    llvm::Value *addend =
        product.addend ? context.stepPointer(product.addend, t) : nullptr;
    // Token ids were checked against the vocabulary before the run (onehot's own guard).
    // Panel j holds lanes j·L … j·L+L−1 of step `id` contiguously: a vectorisable copy each.
    auto copyPanelLanes = [&](llvm::Value *panel, int64_t count) {
      llvm::Value *column = builder.CreateMul(panel, context.index(lanes));
      llvm::Value *from = context.elementPointer(
          context.realType, packed,
          builder.CreateMul(builder.CreateAdd(builder.CreateMul(panel, context.index(k)), id),
                            context.index(lanes)));
      context.emitLoop(count, [&](llvm::Value *lane) {
        llvm::Value *i = builder.CreateAdd(column, lane);
        llvm::Value *value = context.loadReal(from, lane);
        if (addend) {
          value = builder.CreateFAdd(context.loadReal(addend, i), value);
          if (product.activation == OpKind::Tanh)
            value = emitTanh(context, value);
          else if (product.activation == OpKind::Sigmoid)
            value = emitSigmoid(context, value);
        }
        context.storeReal(value, to, i);
      });
    };
    // Token ids were checked against the vocabulary before the run (onehot's own guard).
    context.emitIf(builder.CreateICmpULT(id, context.index(k)), [&] {
      context.emitLoop(m / lanes, [&](llvm::Value *panel) { copyPanelLanes(panel, lanes); });
      if (m % lanes)
        copyPanelLanes(context.index(m / lanes), m % lanes);
    });
  };
  if (!resultType.isSequence()) {
    context.forEachExample([&] { emitRow(context.index(0)); });
    return;
  }
  context.forEachExample([&] {
    context.emitLoop(context.index(0), context.axisLength(resultType.axis), emitRow, "t");
  });
}

} // namespace

Status emitBatchedMatMul(EmitContext &context, const ir::Op &op) {
  llvm::IRBuilder<> &builder = context.builder;
  const BatchedMatMul &product = context.plan.batchedMatMuls.at(&op);
  if (!product.packOnce)
    emitPack(context, op, product);
  const std::vector<int64_t> &shape = op.operand(0)->type().shape;
  const ir::Value *right = op.operand(1);
  Storage x = context.storageOf(right);
  Storage out = context.slotStorage(product.result);
  context.storage[product.result] = out;
  if (!x.rowStride || !out.rowStride)
    return Error::internal(describeOp(op) + ": a batched product without rows");
  // A whole sequence (time-major, dense) is T·B rows; a step or a static value B rows.
  llvm::Value *rows = context.batchSize;
  if (right->type().isSequence())
    rows = builder.CreateMul(context.longestLength(right->type().axis), rows);
  const ir::Op *producer = right->definingOp();
  if (producer && producer->kind() == OpKind::OneHot) {
    emitOneHotProduct(context, op, product, *producer->operand(0), out);
    return Status::ok();
  }
  GemmOperands operands{rows,     context.index(shape[1]), context.slotPointers[product.packSlot],
                        x.base,   x.rowStride,             context.index(1),
                        out.base, out.rowStride};
  if (product.addend) {
    Storage addend = context.storageOf(product.addend);
    operands.addend = addend.base;
    operands.addendRowStride = addend.rowStride ? addend.rowStride : context.index(0);
    operands.activation = product.activation;
  }
  emitGemm(context, shape[0], operands);
  return Status::ok();
}

namespace {

/// Σ over valid rows of a onehot(x)ᵀ: row x of the transposed sum [n, m] gets a added, the rows
/// in (t, b) order (each sum's terms in the GEMM's order, without its n − 1 zero terms per row);
/// then the result [m, n] is that transposed.
void emitOneHotSummedOuter(EmitContext &context, const ir::Op &op, const BatchSummedOuter &outer) {
  llvm::IRBuilder<> &builder = context.builder;
  const ir::Value *a = op.operand(0), *tokens = op.operand(1)->definingOp()->operand(0);
  const std::string &axis = a->type().axis;
  int64_t m = a->type().stepType().numElements(),
          n = op.operand(1)->type().stepType().numElements();
  llvm::Value *rows = context.slotPointers[outer.oneHotRows];
  context.zeroElements(context.realType, rows, context.index(m * n));
  context.emitLoop(
      context.index(0), context.longestLength(axis),
      [&](llvm::Value *t) {
        context.forEachExample([&] {
          context.emitIf(builder.CreateICmpSLT(t, context.axisLength(axis)), [&] {
            // Token ids were checked against the vocabulary before the run (onehot's guard).
            llvm::Value *id = builder.CreateSExt(
                builder.CreateLoad(context.tokenType, context.stepPointer(tokens, t)),
                context.indexType);
            llvm::Value *row = context.elementPointer(context.realType, rows,
                                                      builder.CreateMul(id, context.index(m)));
            llvm::Value *from = context.stepPointer(a, t);
            context.emitLoop(m, [&](llvm::Value *i) {
              context.storeReal(
                  builder.CreateFAdd(context.loadReal(row, i), context.loadReal(from, i)), row, i);
            });
          });
        });
      },
      "t");
  llvm::Value *out = context.storageOf(op.result()).base;
  context.emitLoop(m, [&](llvm::Value *i) {
    context.emitLoop(
        n,
        [&](llvm::Value *j) {
          context.storeReal(
              context.loadReal(rows, builder.CreateAdd(builder.CreateMul(j, context.index(m)), i)),
              out, builder.CreateAdd(builder.CreateMul(i, context.index(n)), j));
        },
        "j");
  });
}

} // namespace

Status emitBatchSummedOuter(EmitContext &context, const ir::Op &op) {
  llvm::IRBuilder<> &builder = context.builder;
  const BatchSummedOuter &outer = context.plan.batchSummedOuters.at(&op);
  if (outer.oneHotRight) {
    emitOneHotSummedOuter(context, op, outer);
    return Status::ok();
  }
  const ir::Value *a = op.operand(0), *b = op.operand(1);
  const std::string &axis = a->type().axis;
  int64_t m = a->type().stepType().numElements(), n = b->type().stepType().numElements();
  int64_t lanes = kPanelBytes / (context.plan.precision == ir::Precision::Double ? 8 : 4);
  int64_t panels = (n + lanes - 1) / lanes;
  llvm::Value *leftRows = context.slotPointers[outer.leftRows];
  llvm::Value *packed = context.slotPointers[outer.packedRight];

  // The number of valid rows: the reduction length of the product and the panels' stride.
  llvm::Value *counter = builder.CreateAlloca(context.indexType);
  builder.CreateStore(context.index(0), counter);
  context.forEachExample([&] {
    builder.CreateStore(
        builder.CreateAdd(builder.CreateLoad(context.indexType, counter), context.axisLength(axis)),
        counter);
  });
  llvm::Value *validRows = builder.CreateLoad(context.indexType, counter);
  builder.CreateStore(context.index(0), counter);
  // When every example has the longest length and a is stored as [T, B, m] rows, its rows are
  // already the product's rows in order (p = t·B + b): read in place, not gathered.
  const Storage &aStorage = context.storageOf(a);
  llvm::Value *aInPlace = builder.getFalse();
  if (aStorage.isSequence() && aStorage.rowStride)
    aInPlace = builder.CreateAnd(
        {builder.CreateICmpEQ(validRows,
                              builder.CreateMul(context.longestLength(axis), context.batchSize)),
         builder.CreateICmpEQ(aStorage.rowStride, context.index(m)),
         builder.CreateICmpEQ(aStorage.stride,
                              builder.CreateMul(context.batchSize, context.index(m)))});
  context.emitLoop(
      context.index(0), context.longestLength(axis),
      [&](llvm::Value *t) {
        context.forEachExample([&] {
          context.emitIf(builder.CreateICmpSLT(t, context.axisLength(axis)), [&] {
            llvm::Value *p = builder.CreateLoad(context.indexType, counter);
            context.emitIf(builder.CreateNot(aInPlace), [&] {
              context.copyElements(context.realType,
                                   context.elementPointer(context.realType, leftRows,
                                                          builder.CreateMul(p, context.index(m))),
                                   context.stepPointer(a, t), context.index(m));
            });
            llvm::Value *row = context.stepPointer(b, t);
            // Panel j, row p: packed[(j validRows + p) lanes ...], zeros past n. A loop over
            // the full panels, then the partial one: the module's size does not grow with n.
            auto copyPanel = [&](llvm::Value *j, int64_t count) {
              llvm::Value *to = context.elementPointer(
                  context.realType, packed,
                  builder.CreateMul(builder.CreateAdd(builder.CreateMul(j, validRows), p),
                                    context.index(lanes)));
              context.copyElements(
                  context.realType, to,
                  context.elementPointer(context.realType, row,
                                         builder.CreateMul(j, context.index(lanes))),
                  context.index(count));
              if (count < lanes)
                context.zeroElements(
                    context.realType,
                    context.elementPointer(context.realType, to, context.index(count)),
                    context.index(lanes - count));
            };
            int64_t fullPanels = n / lanes;
            if (fullPanels > 0)
              context.emitLoop(
                  context.index(0), context.index(fullPanels),
                  [&](llvm::Value *j) { copyPanel(j, lanes); }, "panel");
            if (fullPanels < panels)
              copyPanel(context.index(fullPanels), n - fullPanels * lanes);
            builder.CreateStore(builder.CreateAdd(p, context.index(1)), counter);
          });
        });
      },
      "t");
  // out[i, j] = Σ_p a_p[i] b_p[j]: rows i read a's gathered rows down a column.
  Storage result = context.storageOf(op.result());
  llvm::Value *aRows = builder.CreateSelect(aInPlace, aStorage.base, leftRows);
  emitGemm(context, n,
           {context.index(m), validRows, packed, aRows, context.index(1), context.index(m),
            result.base, context.index(n)});
  return Status::ok();
}

} // namespace rnnc::codegen
