// Scalar transcendental functions of the kernel's real type: tanh, exp, log and the logistic
// sigmoid 1 / (1 + exp(-x)) (the interpreter's formula).
//
// In float, exp and tanh are written out as straight-line arithmetic (Cephes' expf and tanhf:
// range reduction, a short polynomial, selects instead of branches) so the loop vectoriser
// widens them to <8 x float> / <16 x float> code with the loops around them; LLVM's intrinsics
// would be scalarised into one libm call per lane. The error is a few ulp (Cephes states 2 ulp
// for expf on its domain; tanhf likewise); the differential tests hold them to the interpreter
// at 1e-4 relative. log, and everything in double precision, use LLVM's intrinsics (libm,
// registered with the JIT in runtime/KernelABI.cpp).
#include "compiler/codegen/EmitContext.h"

#include "compiler/codegen/LLVMCompat.h"

#include <limits>

namespace rnnc::codegen {

namespace {

llvm::Value *callIntrinsic(EmitContext &context, llvm::Intrinsic::ID id, llvm::Value *x) {
  return context.builder.CreateCall(compat::intrinsic(context.module, id, {context.realType}), {x});
}

bool isFloat(EmitContext &context) { return context.realType->isFloatTy(); }

/// c[0] + x (c[1] + x (c[2] + ...)) by Horner's rule.
llvm::Value *polynomial(EmitContext &context, llvm::Value *x, std::initializer_list<double> c) {
  llvm::IRBuilder<> &builder = context.builder;
  const double *coefficients = c.begin();
  llvm::Value *result = context.real(coefficients[c.size() - 1]);
  for (size_t i = c.size() - 1; i-- > 0;)
    result = builder.CreateFAdd(builder.CreateFMul(result, x), context.real(coefficients[i]));
  return result;
}

/// Cephes expf: exp(x) = 2^n exp(r), n = round(x / ln 2), |r| <= ln(2) / 2.
llvm::Value *expFloat(EmitContext &context, llvm::Value *x) {
  llvm::IRBuilder<> &builder = context.builder;
  llvm::Function *maxnum =
      compat::intrinsic(context.module, llvm::Intrinsic::maxnum, {x->getType()});
  llvm::Function *minnum =
      compat::intrinsic(context.module, llvm::Intrinsic::minnum, {x->getType()});
  // Reduced to [-87.34, 88.38], where 2^n is a normal float; below exp(x) is flushed to 0 and
  // above it is +infinity (the true value overflows from 88.72; between the two this is off,
  // which no softmax, tanh or sigmoid notices).
  llvm::Value *low = builder.CreateFCmpOLT(x, context.real(-87.33654475));
  llvm::Value *high = builder.CreateFCmpOGT(x, context.real(88.3762626647949));
  llvm::Value *clamped =
      builder.CreateCall(minnum, {builder.CreateCall(maxnum, {x, context.real(-87.33654475)}),
                                  context.real(88.3762626647949)});
  llvm::Value *n = callIntrinsic(
      context, llvm::Intrinsic::floor,
      builder.CreateFAdd(builder.CreateFMul(clamped, context.real(1.44269504088896341)),
                         context.real(0.5)));
  // r = x - n ln 2, with ln 2 split in two so n * 0.693359375 is exact.
  llvm::Value *r = builder.CreateFSub(clamped, builder.CreateFMul(n, context.real(0.693359375)));
  r = builder.CreateFSub(r, builder.CreateFMul(n, context.real(-2.12194440e-4)));
  llvm::Value *r2 = builder.CreateFMul(r, r);
  llvm::Value *p = polynomial(context, r,
                              {5.0000001201E-1, 1.6666665459E-1, 4.1665795894E-2, 8.3334519073E-3,
                               1.3981999507E-3, 1.9875691500E-4});
  llvm::Value *er =
      builder.CreateFAdd(builder.CreateFAdd(builder.CreateFMul(p, r2), r), context.real(1));
  // 2^n from the exponent bits; n is in [-126, 127] after the clamp.
  llvm::Value *exponent =
      builder.CreateAdd(builder.CreateFPToSI(n, builder.getInt32Ty()), builder.getInt32(127));
  llvm::Value *scale = builder.CreateBitCast(builder.CreateShl(exponent, 23), context.realType);
  llvm::Value *result = builder.CreateFMul(er, scale);
  llvm::Value *infinity = context.real(std::numeric_limits<double>::infinity());
  result = builder.CreateSelect(high, infinity, builder.CreateSelect(low, context.real(0), result));
  // A NaN stays a NaN.
  return builder.CreateSelect(builder.CreateFCmpUNO(x, x), x, result);
}

/// Cephes tanhf: an odd polynomial for |x| < 0.625, else 1 - 2 / (exp(2|x|) + 1) with the sign
/// of x.
llvm::Value *tanhFloat(EmitContext &context, llvm::Value *x) {
  llvm::IRBuilder<> &builder = context.builder;
  llvm::Value *magnitude = callIntrinsic(context, llvm::Intrinsic::fabs, x);
  llvm::Value *x2 = builder.CreateFMul(x, x);
  llvm::Value *small = polynomial(context, x2,
                                  {-3.33332819422E-1, 1.33314422036E-1, -5.37397155531E-2,
                                   2.06390887954E-2, -5.70498872745E-3});
  small = builder.CreateFAdd(builder.CreateFMul(builder.CreateFMul(small, x2), x), x);
  llvm::Value *e = expFloat(context, builder.CreateFMul(magnitude, context.real(2)));
  llvm::Value *large = builder.CreateFSub(
      context.real(1), builder.CreateFDiv(context.real(2), builder.CreateFAdd(e, context.real(1))));
  llvm::Function *copysign =
      compat::intrinsic(context.module, llvm::Intrinsic::copysign, {context.realType});
  large = builder.CreateCall(copysign, {large, x});
  return builder.CreateSelect(builder.CreateFCmpOLT(magnitude, context.real(0.625)), small, large);
}

} // namespace

llvm::Value *emitTanh(EmitContext &context, llvm::Value *x) {
  if (isFloat(context))
    return tanhFloat(context, x);
  return callIntrinsic(context, llvm::Intrinsic::tanh, x);
}

llvm::Value *emitExp(EmitContext &context, llvm::Value *x) {
  if (isFloat(context))
    return expFloat(context, x);
  return callIntrinsic(context, llvm::Intrinsic::exp, x);
}

llvm::Value *emitLog(EmitContext &context, llvm::Value *x) {
  return callIntrinsic(context, llvm::Intrinsic::log, x);
}

llvm::Value *emitSigmoid(EmitContext &context, llvm::Value *x) {
  llvm::IRBuilder<> &builder = context.builder;
  llvm::Value *denominator =
      builder.CreateFAdd(context.real(1), emitExp(context, builder.CreateFNeg(x)));
  return builder.CreateFDiv(context.real(1), denominator);
}

} // namespace rnnc::codegen
