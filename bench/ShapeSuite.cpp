// The shape suite table (ShapeSuite.h). Model paths are absolute: RNNC_SOURCE_DIR is the source
// tree, set by bench/CMakeLists.txt.
#include "bench/ShapeSuite.h"

namespace rnnc::bench {

namespace {
std::string benchModel(const std::string &file) {
  return std::string(RNNC_SOURCE_DIR) + "/bench/models/" + file;
}
std::string exampleModel(const std::string &file) {
  return std::string(RNNC_SOURCE_DIR) + "/examples/" + file;
}
} // namespace

std::string baselineModelPath(EigenBaselineKind kind) {
  switch (kind) {
  case EigenBaselineKind::TanhRnn:
    return benchModel("rnn_tanh.rnn");
  case EigenBaselineKind::Elman:
    return exampleModel("elman.rnn");
  case EigenBaselineKind::None:
    break;
  }
  return "";
}

std::string baselineModelPath(OneDnnBaselineKind kind) {
  switch (kind) {
  case OneDnnBaselineKind::TanhRnn:
    return benchModel("rnn_tanh.rnn");
  case OneDnnBaselineKind::Lstm:
    return benchModel("lstm.rnn");
  case OneDnnBaselineKind::LbrGru:
    return benchModel("gru.rnn");
  case OneDnnBaselineKind::None:
    break;
  }
  return "";
}

const std::vector<SuiteShape> &shapeSuite() {
  using Eigen = EigenBaselineKind;
  using OneDnn = OneDnnBaselineKind;
  const std::string tanhRnn = benchModel("rnn_tanh.rnn"), lstm = benchModel("lstm.rnn"),
                    gru = benchModel("gru.rnn"), elman = exampleModel("elman.rnn");
  // One row per shape, as design.md §5 lists them.
  // clang-format off
  static const std::vector<SuiteShape> shapes = {
      // name  cell          model    dims                          T    B
      //       Eigen baseline  oneDNN baseline
      {"S1", "tanh RNN",   tanhRnn, {{"I", 256}, {"H", 256}},   100, 1,
               Eigen::TanhRnn, OneDnn::TanhRnn},
      {"S2", "tanh RNN",   tanhRnn, {{"I", 256}, {"H", 256}},   100, 32,
               Eigen::TanhRnn, OneDnn::TanhRnn},
      {"S3", "tanh RNN",   tanhRnn, {{"I", 512}, {"H", 512}},   100, 64,
               Eigen::TanhRnn, OneDnn::TanhRnn},
      {"S4", "tanh RNN",   tanhRnn, {{"I", 1760}, {"H", 1760}}, 50,  16,
               Eigen::TanhRnn, OneDnn::TanhRnn},
      {"L1", "LSTM",       lstm,    {{"I", 256}, {"H", 256}},   100, 32,
               Eigen::None,    OneDnn::Lstm},
      {"G1", "GRU",        gru,     {{"I", 256}, {"H", 256}},   100, 32,
               Eigen::None,    OneDnn::LbrGru},
      {"C1", "char model", elman,   {{"K", 65}, {"H", 256}},    64,  32,
               Eigen::Elman,   OneDnn::None},
  };
  // clang-format on
  return shapes;
}

} // namespace rnnc::bench
