// Transcendental functions of the kernel's real type: tanh, exp, log and the logistic sigmoid
// 1 / (1 + exp(-x)).
//
// In float, all four are written out as straight-line arithmetic (Cephes' expf, tanhf and logf:
// range reduction, a short polynomial, selects instead of branches) so the loop vectoriser
// widens them to <8 x float> / <16 x float> code with the loops around them; LLVM's intrinsics
// would be scalarised into one libm call per lane. test/unit/MathAccuracyTest measures them on
// every float; docs/codegen.md "Accuracy of the math functions" states the bounds (a few ulp,
// exact special values, gradual underflow). Everything in double precision uses LLVM's
// intrinsics (libm, registered with the JIT in runtime/KernelABI.cpp).
//
// Each function takes a value of the real type or a vector of it: constants and integer types
// follow the operand's type.
#include "compiler/codegen/EmitContext.h"

#include "compiler/codegen/LLVMCompat.h"

#include <limits>

namespace rnnc::codegen {

namespace {

/// `value` in the type of `x`: a float or double, or a splat of one when x is a vector.
llvm::Constant *constant(llvm::Value *x, double value) {
  return llvm::ConstantFP::get(x->getType(), value);
}

llvm::Value *callIntrinsic(EmitContext &context, llvm::Intrinsic::ID id,
                           llvm::ArrayRef<llvm::Value *> operands) {
  return context.builder.CreateCall(compat::intrinsic(context.module, id, {operands[0]->getType()}),
                                    operands);
}

bool isFloat(llvm::Value *x) { return x->getType()->getScalarType()->isFloatTy(); }

/// i32, or a vector of i32 as wide as x.
llvm::Type *bitsType(EmitContext &context, llvm::Value *x) {
  return x->getType()->getWithNewType(context.builder.getInt32Ty());
}

llvm::Constant *integer(llvm::Type *type, int32_t value) {
  return llvm::ConstantInt::get(type, static_cast<uint64_t>(static_cast<int64_t>(value)), true);
}

/// c[0] + x (c[1] + x (c[2] + ...)) by Horner's rule.
llvm::Value *polynomial(EmitContext &context, llvm::Value *x, std::initializer_list<double> c) {
  llvm::IRBuilder<> &builder = context.builder;
  const double *coefficients = c.begin();
  llvm::Value *result = constant(x, coefficients[c.size() - 1]);
  for (size_t i = c.size() - 1; i-- > 0;)
    result = builder.CreateFAdd(builder.CreateFMul(result, x), constant(x, coefficients[i]));
  return result;
}

/// 2^n as a float of `type`, for an i32 n in [-126, 127]: the exponent field n + 127.
llvm::Value *powerOfTwo(EmitContext &context, llvm::Value *n, llvm::Type *type) {
  llvm::IRBuilder<> &builder = context.builder;
  llvm::Type *bits = n->getType();
  return builder.CreateBitCast(
      builder.CreateShl(builder.CreateAdd(n, integer(bits, 127)), integer(bits, 23)), type);
}

/// Cephes expf: exp(x) = 2^n exp(r), n = round(x / ln 2), |r| <= ln(2) / 2.
llvm::Value *expFloat(EmitContext &context, llvm::Value *x) {
  llvm::IRBuilder<> &builder = context.builder;
  // Below -104 the result rounds to +0 (e^-104 < 2^-150, half the smallest subnormal), above 89
  // it is +inf (e^89 > FLT_MAX); the clamp keeps n in [-150, 128]. maxnum turns a NaN into the
  // bound; it is put back at the end.
  llvm::Value *clamped = callIntrinsic(
      context, llvm::Intrinsic::minnum,
      {callIntrinsic(context, llvm::Intrinsic::maxnum, {x, constant(x, -104)}), constant(x, 89)});
  llvm::Value *n = callIntrinsic(
      context, llvm::Intrinsic::floor,
      {builder.CreateFAdd(builder.CreateFMul(clamped, constant(x, 1.44269504088896341)),
                          constant(x, 0.5))});
  // r = x - n ln 2, with ln 2 split in two so n * 0.693359375 is exact.
  llvm::Value *r = builder.CreateFSub(clamped, builder.CreateFMul(n, constant(x, 0.693359375)));
  r = builder.CreateFSub(r, builder.CreateFMul(n, constant(x, -2.12194440e-4)));
  llvm::Value *r2 = builder.CreateFMul(r, r);
  llvm::Value *p = polynomial(context, r,
                              {5.0000001201E-1, 1.6666665459E-1, 4.1665795894E-2, 8.3334519073E-3,
                               1.3981999507E-3, 1.9875691500E-4});
  llvm::Value *er =
      builder.CreateFAdd(builder.CreateFAdd(builder.CreateFMul(p, r2), r), constant(x, 1));
  // 2^n as 2^(n - h) 2^h with h = floor(n / 2) in [-75, 64]: both factors are normal floats,
  // er 2^(n - h) is exact, and the second product rounds once. So the result overflows to +inf
  // where e^x does (from 88.72) and underflows gradually through the subnormals.
  llvm::Value *exponent = builder.CreateFPToSI(n, bitsType(context, x));
  llvm::Value *half = builder.CreateAShr(exponent, 1);
  llvm::Value *result = builder.CreateFMul(
      builder.CreateFMul(er, powerOfTwo(context, builder.CreateSub(exponent, half), x->getType())),
      powerOfTwo(context, half, x->getType()));
  // A NaN stays a NaN.
  return builder.CreateSelect(builder.CreateFCmpUNO(x, x), x, result);
}

/// Cephes tanhf on |x|: an odd polynomial below 0.625, else 1 - 2 / (exp(2|x|) + 1) (exactly 1
/// once exp overflows); then the sign of x, so tanh(-0) = -0.
llvm::Value *tanhFloat(EmitContext &context, llvm::Value *x) {
  llvm::IRBuilder<> &builder = context.builder;
  llvm::Value *magnitude = callIntrinsic(context, llvm::Intrinsic::fabs, {x});
  llvm::Value *x2 = builder.CreateFMul(magnitude, magnitude);
  llvm::Value *small = polynomial(context, x2,
                                  {-3.33332819422E-1, 1.33314422036E-1, -5.37397155531E-2,
                                   2.06390887954E-2, -5.70498872745E-3});
  small =
      builder.CreateFAdd(builder.CreateFMul(builder.CreateFMul(small, x2), magnitude), magnitude);
  llvm::Value *e = expFloat(context, builder.CreateFMul(magnitude, constant(x, 2)));
  llvm::Value *large = builder.CreateFSub(
      constant(x, 1), builder.CreateFDiv(constant(x, 2), builder.CreateFAdd(e, constant(x, 1))));
  llvm::Value *result =
      builder.CreateSelect(builder.CreateFCmpOLT(magnitude, constant(x, 0.625)), small, large);
  return callIntrinsic(context, llvm::Intrinsic::copysign, {result, x});
}

/// Cephes logf: x = m 2^e with m in [sqrt(1/2), sqrt(2)), log x = e ln 2 + log(1 + f) with
/// f = m - 1 and log(1 + f) = f - f^2 / 2 + f^3 P(f).
llvm::Value *logFloat(EmitContext &context, llvm::Value *x) {
  llvm::IRBuilder<> &builder = context.builder;
  llvm::Type *bits = bitsType(context, x);
  // A subnormal x is scaled by 2^23 into the normal range first.
  llvm::Value *subnormal = builder.CreateFCmpOLT(x, constant(x, 0x1p-126));
  llvm::Value *scaled =
      builder.CreateSelect(subnormal, builder.CreateFMul(x, constant(x, 0x1p23)), x);
  llvm::Value *pattern = builder.CreateBitCast(scaled, bits);
  // frexp: the mantissa bits with the exponent of 0.5 give m in [0.5, 1), and e = biased - 126.
  llvm::Value *e = builder.CreateSub(builder.CreateLShr(pattern, 23), integer(bits, 126));
  e = builder.CreateSub(e, builder.CreateSelect(subnormal, integer(bits, 23), integer(bits, 0)));
  llvm::Value *m =
      builder.CreateBitCast(builder.CreateOr(builder.CreateAnd(pattern, integer(bits, 0x007fffff)),
                                             integer(bits, 0x3f000000)),
                            x->getType());
  // Below sqrt(1/2), take 2m and e - 1, so f = m - 1 is in [sqrt(1/2) - 1, sqrt(2) - 1) and
  // computed exactly.
  llvm::Value *below = builder.CreateFCmpOLT(m, constant(x, 0.707106781186547524));
  llvm::Value *f =
      builder.CreateFSub(builder.CreateSelect(below, builder.CreateFAdd(m, m), m), constant(x, 1));
  llvm::Value *exponent =
      builder.CreateSIToFP(builder.CreateSub(e, builder.CreateZExt(below, bits)), x->getType());
  llvm::Value *f2 = builder.CreateFMul(f, f);
  llvm::Value *p = polynomial(context, f,
                              {3.3333331174E-1, -2.4999993993E-1, 2.0000714765E-1, -1.6668057665E-1,
                               1.4249322787E-1, -1.2420140846E-1, 1.1676998740E-1, -1.1514610310E-1,
                               7.0376836292E-2});
  llvm::Value *y = builder.CreateFMul(builder.CreateFMul(p, f), f2);
  // ln 2 split in two as in expFloat: e * 0.693359375 is exact and added last.
  y = builder.CreateFAdd(y, builder.CreateFMul(exponent, constant(x, -2.12194440e-4)));
  y = builder.CreateFAdd(y, builder.CreateFMul(f2, constant(x, -0.5)));
  llvm::Value *result = builder.CreateFAdd(builder.CreateFAdd(f, y),
                                           builder.CreateFMul(exponent, constant(x, 0.693359375)));
  // log(+inf) = +inf, log(±0) = -inf, log of a negative or NaN is NaN.
  llvm::Value *infinity = constant(x, std::numeric_limits<double>::infinity());
  result = builder.CreateSelect(builder.CreateFCmpOEQ(x, infinity), infinity, result);
  result = builder.CreateSelect(builder.CreateFCmpOEQ(x, constant(x, 0)),
                                constant(x, -std::numeric_limits<double>::infinity()), result);
  return builder.CreateSelect(builder.CreateFCmpULT(x, constant(x, 0)),
                              constant(x, std::numeric_limits<double>::quiet_NaN()), result);
}

} // namespace

llvm::Value *emitTanh(EmitContext &context, llvm::Value *x) {
  if (isFloat(x))
    return tanhFloat(context, x);
  return callIntrinsic(context, llvm::Intrinsic::tanh, {x});
}

llvm::Value *emitExp(EmitContext &context, llvm::Value *x) {
  if (isFloat(x))
    return expFloat(context, x);
  return callIntrinsic(context, llvm::Intrinsic::exp, {x});
}

llvm::Value *emitLog(EmitContext &context, llvm::Value *x) {
  if (isFloat(x))
    return logFloat(context, x);
  return callIntrinsic(context, llvm::Intrinsic::log, {x});
}

/// 1 / (1 + e^-x) for x >= 0, e^x / (1 + e^x) for x < 0: one exp(-|x|) <= 1 that never
/// overflows, so a negative x keeps its relative accuracy down into the subnormals, where
/// 1 / (1 + e^-x) would be 0 from x = -88.7 in float.
llvm::Value *emitSigmoid(EmitContext &context, llvm::Value *x) {
  llvm::IRBuilder<> &builder = context.builder;
  llvm::Value *e =
      emitExp(context, builder.CreateFNeg(callIntrinsic(context, llvm::Intrinsic::fabs, {x})));
  llvm::Value *numerator =
      builder.CreateSelect(builder.CreateFCmpOLT(x, constant(x, 0)), e, constant(x, 1));
  return builder.CreateFDiv(numerator, builder.CreateFAdd(constant(x, 1), e));
}

} // namespace rnnc::codegen
