// Linear algebra (matmul, transpose, outer) on row-major static shapes. The loop orders are
// chosen for the vectoriser: a matrix-vector product is a dot product per row, an
// llvm.fmuladd reduction over contiguous elements with reassociation allowed (so it becomes
// <8 x float> FMAs into split accumulators); a product with a folded transpose (Wᵀ δ in the
// backward) accumulates rows of W scaled by δ's elements; a matrix-matrix product runs i, p, j
// so the inner loop streams contiguous rows of both the right operand and the result.
#include "compiler/codegen/EmitContext.h"

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

} // namespace rnnc::codegen
