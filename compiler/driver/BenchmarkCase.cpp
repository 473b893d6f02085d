// BenchmarkCase (BenchmarkCase.h): the graph, parameters and random batch of one measurement,
// made with the same helpers as `rnnc init`, `rnnc data`, `rnnc run` and `rnnc train`.
#include "compiler/driver/BenchmarkCase.h"

#include <chrono>

#include "compiler/driver/DriverCommon.h"
#include "compiler/model/ModelData.h"
#include "compiler/model/ModelLoading.h"
#include "compiler/model/Parameters.h"
#include "compiler/model/TrainingGraphs.h"

namespace rnnc::driver {

namespace {
/// No tensor of the random batch may exceed this many elements (1 GiB of F32), as for `rnnc data`.
constexpr int64_t kMaxDataElements = int64_t(1) << 28;
} // namespace

Expected<BenchmarkMode> parseBenchmarkMode(const std::string &option, const std::string &text) {
  if (text == "forward")
    return BenchmarkMode::Forward;
  if (text == "train")
    return BenchmarkMode::Train;
  return Error::user("option '" + option + "' expects forward or train, got '" + text + "'");
}

const char *benchmarkModeName(BenchmarkMode mode) {
  return mode == BenchmarkMode::Forward ? "forward" : "train";
}

Expected<std::unique_ptr<BenchmarkCase>> BenchmarkCase::create(const BenchmarkSpec &spec) {
  auto benchmark = std::make_unique<BenchmarkCase>();
  benchmark->spec_ = spec;
  auto frontendStart = std::chrono::steady_clock::now();
  double frontendMilliseconds = 0;
  auto addFrontendTime = [&] {
    auto now = std::chrono::steady_clock::now();
    frontendMilliseconds += std::chrono::duration<double, std::milli>(now - frontendStart).count();
  };
  auto module = model::loadModule(spec.modelPath, spec.dims);
  addFrontendTime();
  if (!module)
    return module.takeError();
  auto forward = model::findGraph(**module, "forward");
  if (!forward)
    return forward.takeError();

  DType realType = spec.precision == ir::Precision::Double ? DType::F64 : DType::F32;
  auto params = model::initializeParameters(**forward, spec.seed, realType);
  if (!params)
    return params.takeError();
  benchmark->params_ = params.take();
  model::RandomDataOptions dataOptions;
  dataOptions.batch = spec.batch;
  dataOptions.steps = spec.steps;
  dataOptions.seed = spec.seed;
  dataOptions.realType = realType;
  if (Status size = model::checkRandomDataSize(**forward, dataOptions, kMaxDataElements); !size)
    return size.takeError();
  TensorMap data = model::randomData(**forward, dataOptions);

  if (spec.mode == BenchmarkMode::Forward) {
    benchmark->module_ = module.take();
    benchmark->graph_ = benchmark->module_->findGraph("forward");
  } else {
    // The graphs of `rnnc train`, so that a training step here costs what it costs there.
    frontendStart = std::chrono::steady_clock::now();
    auto graphs = model::buildTrainingGraphs(module.take());
    addFrontendTime();
    if (!graphs)
      return graphs.takeError();
    benchmark->module_ = std::move(graphs->module);
    benchmark->graph_ = graphs->backward;
  }
  benchmark->data_ = model::graphData(*benchmark->graph_, data);
  benchmark->frontendMilliseconds_ = frontendMilliseconds;
  return benchmark;
}

Expected<TensorMap> BenchmarkCase::run(backend::Backend &backend, int threads) const {
  ir::Batch batch;
  batch.params = &params_;
  batch.data = &data_;
  ir::RunOptions options;
  options.precision = spec_.precision;
  options.seed = spec_.seed;
  options.threads = threads;
  return backend.run(*graph_, batch, options);
}

} // namespace rnnc::driver
