// Shared by the differential tests (JitDifferentialTest over the example models,
// RandomModelTest over generated ones): random parameters and batches for a graph, and running a
// graph on the reference interpreter and on a compiled backend with the results compared.
#pragma once

#include "compiler/backend/Backend.h"
#include "compiler/model/ModelData.h"
#include "compiler/model/Parameters.h"
#include "ir/Interpreter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

namespace rnnc::test_support {

/// Every output of `actual` matches `expected`: names, dtypes, shapes, tokens exactly, reals to
/// `tolerance` relative to max(1, |expected|).
inline void expectMatches(const TensorMap &expected, const TensorMap &actual, double tolerance) {
  ASSERT_EQ(expected.size(), actual.size());
  for (const auto &[name, want] : expected) {
    SCOPED_TRACE("output '" + name + "'");
    auto found = actual.find(name);
    ASSERT_NE(found, actual.end());
    const Tensor &got = found->second;
    ASSERT_EQ(got.dtype(), want.dtype());
    ASSERT_EQ(got.shape(), want.shape());
    if (want.dtype() == DType::I32) {
      for (int64_t i = 0; i < want.numElements(); ++i)
        ASSERT_EQ(got.values<int32_t>()[i], want.values<int32_t>()[i]) << "at flat index " << i;
      continue;
    }
    Tensor wantValues = want.convert(DType::F64), gotValues = got.convert(DType::F64);
    for (int64_t i = 0; i < want.numElements(); ++i) {
      double w = wantValues.values<double>()[i], g = gotValues.values<double>()[i];
      ASSERT_NEAR(g, w, tolerance * std::max(1.0, std::abs(w))) << "at flat index " << i;
    }
  }
}

/// Runs `graph` on `batch` through the interpreter and a compiled backend and compares.
inline void expectSameRun(backend::Backend &jit, const ir::Graph &graph, const ir::Batch &batch,
                   ir::RunOptions options, double tolerance) {
  auto expected = ir::runGraph(graph, batch, options);
  ASSERT_TRUE(expected) << expected.error().message;
  auto actual = jit.run(graph, batch, options);
  ASSERT_TRUE(actual) << actual.error().message;
  expectMatches(*expected, *actual, tolerance);
}

struct ModelBatch {
  TensorMap params, data;
  ir::Batch batch;
};

/// Parameters and random data for `graph` in `dtype`, with mixed lengths unless `equalLengths`.
inline ModelBatch randomBatch(const ir::Graph &graph, DType dtype, bool equalLengths,
                              int64_t examples, int64_t steps) {
  ModelBatch result;
  auto params = model::initializeParameters(graph, 7, dtype);
  EXPECT_TRUE(params) << params.error().message;
  if (params)
    result.params = params.take();
  model::RandomDataOptions options;
  options.batch = examples;
  options.steps = steps;
  options.variableLengths = !equalLengths;
  options.seed = 5;
  options.realType = dtype;
  result.data = model::randomData(graph, options);
  auto lengths = model::extractLengths(graph, result.data);
  EXPECT_TRUE(lengths) << lengths.error().message;
  result.batch.params = &result.params;
  result.batch.data = &result.data;
  if (lengths)
    result.batch.lengths = *lengths;
  return result;
}

} // namespace rnnc::test_support
