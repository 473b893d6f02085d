// The oneDNN baselines (OneDnnRnn.h). oneDNN's RNN tensors, for one layer and one direction:
//   src_layer [T, B, I], dst_layer [T, B, H] (tnc: row t·B + b is step t of example b, as rnnc's
//   sequences are); weights_layer [1, 1, I, G, H] and weights_iter [1, 1, H, G, H], G gates, whose
//   ldgoi layout ([gate][out][in]) is rnnc's row-major [G·H, I] up to the order of the gates;
//   bias [1, 1, G′, H] (ldgo), G′ = G but 4 for the linear-before-reset GRU.
// oneDNN's C++ API reports failures as dnnl::error exceptions; create() turns them into errors.
#include "bench/OneDnnRnn.h"

#include "bench/CaseTensors.h"
#include "bench/EigenRnn.h"

#include <omp.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <cstdlib>
#include <cstring>
#include <unordered_map>
#include <utility>
#include <vector>

namespace rnnc::bench {

void setOneDnnThreads(int threads) { omp_set_num_threads(threads); }
int oneDnnThreads() { return omp_get_max_threads(); }

std::string oneDnnVersion() {
  const dnnl::version_t *version = dnnl::version();
  return std::to_string(version->major) + "." + std::to_string(version->minor) + "." +
         std::to_string(version->patch);
}

std::string oneDnnIsaLimit() {
  for (const char *variable : {"ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA"})
    if (const char *value = std::getenv(variable))
      return std::string(variable) + "=" + value;
  return "unset";
}

std::string oneDnnEffectiveIsa() {
  using dnnl::cpu_isa;
  static const std::pair<cpu_isa, const char *> names[] = {
      {cpu_isa::all, "all"},
      {cpu_isa::sse41, "sse41"},
      {cpu_isa::avx, "avx"},
      {cpu_isa::avx2, "avx2"},
      {cpu_isa::avx2_vnni, "avx2_vnni"},
      {cpu_isa::avx512_mic, "avx512_mic"},
      {cpu_isa::avx512_mic_4ops, "avx512_mic_4ops"},
      {cpu_isa::avx512_core, "avx512_core"},
      {cpu_isa::avx512_core_vnni, "avx512_core_vnni"},
      {cpu_isa::avx512_core_bf16, "avx512_core_bf16"},
      {cpu_isa::avx512_core_amx, "avx512_core_amx"}};
  const cpu_isa effective = dnnl::get_effective_cpu_isa();
  for (const auto &[isa, name] : names)
    if (isa == effective)
      return name;
  return "unknown";
}

namespace {

using dnnl::memory;
using Tag = memory::format_tag;

/// How one rnnc model's parameters are one oneDNN cell's weights and biases.
struct CellMapping {
  const char *weightsLayer, *weightsIter; ///< rnnc's [G·H, I] and [G·H, H].
  std::vector<const char *> biases;       ///< rnnc's bias vectors, each [G·H].
  int64_t gates;                          ///< G.
  int64_t biasGates;                      ///< oneDNN's bias vectors per layer.
  std::vector<int64_t> rnncGate;          ///< oneDNN's gate g is rnnc's slice rnncGate[g].
  /// Slice `rnncGate` of rnnc's bias `bias` adds into oneDNN's bias vector `oneDnnGate`.
  struct BiasTerm {
    int64_t bias, rnncGate, oneDnnGate;
  };
  std::vector<BiasTerm> biasTerms; ///< Every slice of every rnnc bias, once.
};

const CellMapping &cellMapping(OneDnnBaselineKind kind) {
  // rnn_tanh.rnn: h(t) = tanh(b + W h(t−1) + U x(t)), oneDNN's vanilla RNN as it is.
  static const CellMapping vanillaRnn{"U", "W", {"b"}, 1, 1, {0}, {{0, 0, 0}}};
  // lstm.rnn slices i, f, g, o (PyTorch's order), oneDNN's gates are i, f, c̃, o: the same; both
  // biases add into oneDNN's one per gate.
  static const CellMapping lstm{
      "weight_ih_l0",
      "weight_hh_l0",
      {"bias_ih_l0", "bias_hh_l0"},
      4,
      4,
      {0, 1, 2, 3},
      {{0, 0, 0}, {1, 0, 0}, {0, 1, 1}, {1, 1, 1}, {0, 2, 2}, {1, 2, 2}, {0, 3, 3}, {1, 3, 3}}};
  // gru.rnn slices r, z, n (PyTorch's order) and computes n = tanh(gi_n + r ⊙ gh_n) with both
  // biases inside: oneDNN's linear-before-reset GRU, whose gates are u (= z), r, o (= n) and
  // whose biases are b_u, b_r, b_cx (bias_ih's n) and b_ch (bias_hh's n, inside the reset).
  static const CellMapping lbrGru{
      "weight_ih_l0",
      "weight_hh_l0",
      {"bias_ih_l0", "bias_hh_l0"},
      3,
      4,
      {1, 0, 2},
      {{0, 1, 0}, {1, 1, 0}, {0, 0, 1}, {1, 0, 1}, {0, 2, 2}, {1, 2, 3}}};
  switch (kind) {
  case OneDnnBaselineKind::Lstm:
    return lstm;
  case OneDnnBaselineKind::LbrGru:
    return lbrGru;
  default:
    return vanillaRnn;
  }
}

/// Copies the G gate blocks of `block` elements each between rnnc's gate order and oneDNN's
/// (ldgoi and rnnc's [G·H, in] both hold a gate's block contiguously).
void toOneDnnGates(const CellMapping &cell, const float *rnnc, float *oneDnn, int64_t block) {
  for (int64_t gate = 0; gate < cell.gates; ++gate)
    std::memcpy(oneDnn + gate * block, rnnc + cell.rnncGate[gate] * block, block * sizeof(float));
}
void toRnncGates(const CellMapping &cell, const float *oneDnn, float *rnnc, int64_t block) {
  for (int64_t gate = 0; gate < cell.gates; ++gate)
    std::memcpy(rnnc + cell.rnncGate[gate] * block, oneDnn + gate * block, block * sizeof(float));
}

/// The descriptors the primitives are made from: the data in tnc, the weights `any`. The initial
/// state (and the LSTM's initial cell) is an explicit zero tensor rather than oneDNN's "no state"
/// (a zero descriptor): with no src_iter, oneDNN 2.6.3's vanilla RNN and LSTM backward compute a
/// wrong diff_weights_iter (the start-up check shows it), with a zero src_iter the right one.
struct Descriptors {
  memory::desc srcLayer, dstLayer, weightsLayer, weightsIter, bias;
  memory::desc state; ///< [1, 1, B, H] (ldnc): the initial state and its gradient.
  memory::desc none;  ///< A zero descriptor: no final state.
};

struct Primitives {
  dnnl::primitive forward, backward;
  dnnl::rnn_primitive_desc_base forwardDesc, backwardDesc;
};

/// The forward primitive of `propagation` and, when training, its backward primitive. The two
/// descriptor makers take the propagation kind; the backward one is called with `backward`.
template <typename Forward, typename Backward, typename MakeForward, typename MakeBackward>
Primitives makePrimitives(const dnnl::engine &engine, dnnl::prop_kind propagation, bool train,
                          MakeForward makeForward, MakeBackward makeBackward) {
  dnnl::primitive_attr attributes;
  attributes.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  typename Forward::primitive_desc forwardDesc(makeForward(propagation), attributes, engine);
  Primitives made{Forward(forwardDesc), {}, forwardDesc, {}};
  if (train) {
    typename Backward::primitive_desc backwardDesc(makeBackward(dnnl::prop_kind::backward),
                                                   attributes, engine, forwardDesc);
    made.backward = Backward(backwardDesc);
    made.backwardDesc = backwardDesc;
  }
  return made;
}

Primitives makeCellPrimitives(OneDnnBaselineKind kind, const dnnl::engine &engine, bool train,
                              const Descriptors &d) {
  using namespace dnnl;
  const auto direction = rnn_direction::unidirectional_left2right;
  const auto propagation = train ? prop_kind::forward_training : prop_kind::forward_inference;
  const memory::desc &none = d.none, &state = d.state;
  switch (kind) {
  case OneDnnBaselineKind::Lstm:
    return makePrimitives<lstm_forward, lstm_backward>(
        engine, propagation, train,
        [&](prop_kind p) {
          return lstm_forward::desc(p, direction, d.srcLayer, state, state, d.weightsLayer,
                                    d.weightsIter, d.bias, d.dstLayer, none, none);
        },
        [&](prop_kind p) {
          return lstm_backward::desc(p, direction, d.srcLayer, state, state, d.weightsLayer,
                                     d.weightsIter, d.bias, d.dstLayer, none, none, d.srcLayer,
                                     state, state, d.weightsLayer, d.weightsIter, d.bias,
                                     d.dstLayer, none, none);
        });
  case OneDnnBaselineKind::LbrGru:
    return makePrimitives<lbr_gru_forward, lbr_gru_backward>(
        engine, propagation, train,
        [&](prop_kind p) {
          return lbr_gru_forward::desc(p, direction, d.srcLayer, state, d.weightsLayer,
                                       d.weightsIter, d.bias, d.dstLayer, none);
        },
        [&](prop_kind p) {
          return lbr_gru_backward::desc(p, direction, d.srcLayer, state, d.weightsLayer,
                                        d.weightsIter, d.bias, d.dstLayer, none, d.srcLayer, state,
                                        d.weightsLayer, d.weightsIter, d.bias, d.dstLayer, none);
        });
  default:
    return makePrimitives<vanilla_rnn_forward, vanilla_rnn_backward>(
        engine, propagation, train,
        [&](prop_kind p) {
          return vanilla_rnn_forward::desc(p, algorithm::eltwise_tanh, direction, d.srcLayer, state,
                                           d.weightsLayer, d.weightsIter, d.bias, d.dstLayer, none);
        },
        [&](prop_kind p) {
          return vanilla_rnn_backward::desc(p, algorithm::eltwise_tanh, direction, d.srcLayer,
                                            state, d.weightsLayer, d.weightsIter, d.bias,
                                            d.dstLayer, none, d.srcLayer, state, d.weightsLayer,
                                            d.weightsIter, d.bias, d.dstLayer, none);
        });
  }
}

} // namespace

struct OneDnnBaseline::State {
  const CellMapping *cell = nullptr;
  bool train = false;
  int64_t steps = 0, batch = 0, input = 0, hidden = 0;
  const float *y = nullptr;
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  Primitives primitives;
  std::unordered_map<int, memory> forwardArguments, backwardArguments;
  /// rnnc's weights and biases in oneDNN's gate order and plain layouts (ldgoi, ldgo), the
  /// sources of the reorders into the primitives' layouts.
  std::vector<float> weightsLayer, weightsIter, bias;
  /// The weight gradients, which the backward primitive accumulates into.
  std::vector<memory> gradients;
  float loss = 0;
  /// results(): the gradients in rnnc's layouts.
  std::vector<float> gradWeightsLayer, gradWeightsIter;
  std::vector<std::vector<float>> gradBiases;

  memory::desc plain(const memory::dims &dims, Tag tag) const {
    return {dims, memory::data_type::f32, tag};
  }
  memory::dims weightsLayerDims() const { return {1, 1, input, cell->gates, hidden}; }
  memory::dims weightsIterDims() const { return {1, 1, hidden, cell->gates, hidden}; }
  memory::dims biasDims() const { return {1, 1, cell->biasGates, hidden}; }
  /// `values` (of descriptor `from`) in a new memory of the layout `to`.
  memory reordered(std::vector<float> &values, const memory::desc &from, const memory::desc &to);
  /// The memory of `arguments`' `argument`, converted into `values` of descriptor `to`.
  void copyOut(int argument, const memory::desc &to, std::vector<float> &values);
};

memory OneDnnBaseline::State::reordered(std::vector<float> &values, const memory::desc &from,
                                        const memory::desc &to) {
  memory source(from, engine, values.data()), result(to, engine);
  dnnl::reorder(source, result).execute(stream, source, result);
  stream.wait();
  return result;
}

void OneDnnBaseline::State::copyOut(int argument, const memory::desc &to,
                                    std::vector<float> &values) {
  values.resize(to.get_size() / sizeof(float));
  memory &source = backwardArguments.at(argument), result(to, engine, values.data());
  dnnl::reorder(source, result).execute(stream, source, result);
  stream.wait();
}

OneDnnBaseline::OneDnnBaseline(std::unique_ptr<State> state) : state_(std::move(state)) {}
OneDnnBaseline::~OneDnnBaseline() = default;

Expected<std::unique_ptr<OneDnnBaseline>>
OneDnnBaseline::create(OneDnnBaselineKind kind, const driver::BenchmarkCase &source) {
  if (kind == OneDnnBaselineKind::None)
    return Error::user("this shape has no oneDNN baseline");
  if (source.spec().precision != ir::Precision::Float)
    return Error::user("the oneDNN baselines run in float32 only");
  auto state = std::make_unique<State>();
  State &s = *state;
  const CellMapping &cell = cellMapping(kind);
  s.cell = &cell;
  s.train = source.spec().mode == driver::BenchmarkMode::Train;
  s.steps = source.spec().steps;
  s.batch = source.spec().batch;
  CaseTensors tensors("the oneDNN baseline", source);
  const int64_t I = s.input = tensors.dim("I"), H = s.hidden = tensors.dim("H");
  if (tensors.failure())
    return *tensors.failure();
  const int64_t G = cell.gates;
  const float *weightsLayer = tensors.param<float>(cell.weightsLayer, {G * H, I});
  const float *weightsIter = tensors.param<float>(cell.weightsIter, {G * H, H});
  std::vector<const float *> biases;
  for (const char *bias : cell.biases)
    biases.push_back(tensors.param<float>(bias, {G * H}));
  const float *x = tensors.data<float>("x", {s.steps, s.batch, I});
  s.y = tensors.data<float>("y", {s.steps, s.batch, H});
  if (tensors.failure())
    return *tensors.failure();

  s.weightsLayer.resize(G * H * I);
  s.weightsIter.resize(G * H * H);
  toOneDnnGates(cell, weightsLayer, s.weightsLayer.data(), H * I);
  toOneDnnGates(cell, weightsIter, s.weightsIter.data(), H * H);
  s.bias.assign(cell.biasGates * H, 0.0f);
  for (const CellMapping::BiasTerm &term : cell.biasTerms)
    for (int64_t unit = 0; unit < H; ++unit)
      s.bias[term.oneDnnGate * H + unit] += biases[term.bias][term.rnncGate * H + unit];

  try {
    const memory::desc srcLayer = s.plain({s.steps, s.batch, I}, Tag::tnc),
                       dstLayer = s.plain({s.steps, s.batch, H}, Tag::tnc),
                       plainWeightsLayer = s.plain(s.weightsLayerDims(), Tag::ldgoi),
                       plainWeightsIter = s.plain(s.weightsIterDims(), Tag::ldgoi),
                       plainBias = s.plain(s.biasDims(), Tag::ldgo),
                       state = s.plain({1, 1, s.batch, H}, Tag::ldnc);
    Descriptors descriptors{srcLayer,
                            dstLayer,
                            s.plain(s.weightsLayerDims(), Tag::any),
                            s.plain(s.weightsIterDims(), Tag::any),
                            s.plain(s.biasDims(), Tag::any),
                            state,
                            {}};
    s.primitives = makeCellPrimitives(kind, s.engine, s.train, descriptors);
    const dnnl::rnn_primitive_desc_base &forward = s.primitives.forwardDesc;
    // oneDNN reads the batch where BenchmarkCase keeps it.
    memory src(srcLayer, s.engine, const_cast<float *>(x)), dst(dstLayer, s.engine);
    memory initialState(state, s.engine);
    std::memset(initialState.get_data_handle(), 0, state.get_size());
    const bool lstm = kind == OneDnnBaselineKind::Lstm;
    s.forwardArguments = {{DNNL_ARG_SRC_ITER, initialState},
                          {DNNL_ARG_SRC_LAYER, src},
                          {DNNL_ARG_WEIGHTS_LAYER, s.reordered(s.weightsLayer, plainWeightsLayer,
                                                               forward.weights_layer_desc())},
                          {DNNL_ARG_WEIGHTS_ITER, s.reordered(s.weightsIter, plainWeightsIter,
                                                              forward.weights_iter_desc())},
                          {DNNL_ARG_BIAS, s.reordered(s.bias, plainBias, forward.bias_desc())},
                          {DNNL_ARG_DST_LAYER, dst},
                          {DNNL_ARG_SCRATCHPAD, memory(forward.scratchpad_desc(), s.engine)}};
    if (lstm)
      s.forwardArguments[DNNL_ARG_SRC_ITER_C] = initialState;
    if (s.train) {
      const dnnl::rnn_primitive_desc_base &backward = s.primitives.backwardDesc;
      memory workspace(forward.workspace_desc(), s.engine);
      s.forwardArguments[DNNL_ARG_WORKSPACE] = workspace;
      s.backwardArguments = {
          {DNNL_ARG_SRC_LAYER, src},
          {DNNL_ARG_SRC_ITER, initialState},
          {DNNL_ARG_DIFF_SRC_ITER, memory(state, s.engine)},
          {DNNL_ARG_WEIGHTS_LAYER,
           s.reordered(s.weightsLayer, plainWeightsLayer, backward.weights_layer_desc())},
          {DNNL_ARG_WEIGHTS_ITER,
           s.reordered(s.weightsIter, plainWeightsIter, backward.weights_iter_desc())},
          {DNNL_ARG_BIAS, s.reordered(s.bias, plainBias, backward.bias_desc())},
          {DNNL_ARG_DST_LAYER, dst},
          {DNNL_ARG_WORKSPACE, workspace},
          {DNNL_ARG_DIFF_DST_LAYER, memory(backward.diff_dst_layer_desc(), s.engine)},
          {DNNL_ARG_DIFF_SRC_LAYER, memory(backward.diff_src_layer_desc(), s.engine)},
          {DNNL_ARG_DIFF_WEIGHTS_LAYER, memory(backward.diff_weights_layer_desc(), s.engine)},
          {DNNL_ARG_DIFF_WEIGHTS_ITER, memory(backward.diff_weights_iter_desc(), s.engine)},
          {DNNL_ARG_DIFF_BIAS, memory(backward.diff_bias_desc(), s.engine)},
          {DNNL_ARG_SCRATCHPAD, memory(backward.scratchpad_desc(), s.engine)}};
      if (lstm) {
        s.backwardArguments[DNNL_ARG_SRC_ITER_C] = initialState;
        s.backwardArguments[DNNL_ARG_DIFF_SRC_ITER_C] = memory(state, s.engine);
      }
      for (int gradient :
           {DNNL_ARG_DIFF_WEIGHTS_LAYER, DNNL_ARG_DIFF_WEIGHTS_ITER, DNNL_ARG_DIFF_BIAS})
        s.gradients.push_back(s.backwardArguments.at(gradient));
    }
  } catch (const dnnl::error &error) {
    return Error::user(std::string("oneDNN refuses the ") + (s.train ? "training" : "forward") +
                       " primitives: " + error.what());
  }
  return std::unique_ptr<OneDnnBaseline>(new OneDnnBaseline(std::move(state)));
}

void OneDnnBaseline::run() {
  State &s = *state_;
  s.primitives.forward.execute(s.stream, s.forwardArguments);
  s.stream.wait();
  const int64_t count = s.steps * s.batch * s.hidden;
  const auto *h =
      static_cast<const float *>(s.forwardArguments.at(DNNL_ARG_DST_LAYER).get_data_handle());
  if (!s.train) {
    s.loss = squaredError(h, s.y, count, nullptr);
    return;
  }
  auto *diffDst =
      static_cast<float *>(s.backwardArguments.at(DNNL_ARG_DIFF_DST_LAYER).get_data_handle());
  s.loss = squaredError(h, s.y, count, diffDst);
  for (memory &gradient : s.gradients)
    std::memset(gradient.get_data_handle(), 0, gradient.get_desc().get_size());
  s.primitives.backward.execute(s.stream, s.backwardArguments);
  s.stream.wait();
}

NamedResults OneDnnBaseline::results() {
  State &s = *state_;
  const CellMapping &cell = *s.cell;
  std::span<const float> loss(&s.loss, 1);
  auto view = [&](std::unordered_map<int, memory> &arguments, int argument, int64_t count) {
    return std::span<const float>(
        static_cast<const float *>(arguments.at(argument).get_data_handle()), size_t(count));
  };
  if (!s.train)
    return {{"loss", loss},
            {"h", view(s.forwardArguments, DNNL_ARG_DST_LAYER, s.steps * s.batch * s.hidden)}};
  const int64_t G = cell.gates, H = s.hidden, I = s.input;
  std::vector<float> plain;
  s.copyOut(DNNL_ARG_DIFF_WEIGHTS_LAYER, s.plain(s.weightsLayerDims(), Tag::ldgoi), plain);
  s.gradWeightsLayer.resize(G * H * I);
  toRnncGates(cell, plain.data(), s.gradWeightsLayer.data(), H * I);
  s.copyOut(DNNL_ARG_DIFF_WEIGHTS_ITER, s.plain(s.weightsIterDims(), Tag::ldgoi), plain);
  s.gradWeightsIter.resize(G * H * H);
  toRnncGates(cell, plain.data(), s.gradWeightsIter.data(), H * H);
  s.copyOut(DNNL_ARG_DIFF_BIAS, s.plain(s.biasDims(), Tag::ldgo), plain);
  s.gradBiases.assign(cell.biases.size(), std::vector<float>(G * H));
  for (const CellMapping::BiasTerm &term : cell.biasTerms)
    std::memcpy(s.gradBiases[term.bias].data() + term.rnncGate * H,
                plain.data() + term.oneDnnGate * H, H * sizeof(float));

  NamedResults results{
      {"loss", loss},
      {std::string("grad.") + cell.weightsLayer, s.gradWeightsLayer},
      {std::string("grad.") + cell.weightsIter, s.gradWeightsIter},
      {"grad.x", view(s.backwardArguments, DNNL_ARG_DIFF_SRC_LAYER, s.steps * s.batch * I)}};
  for (size_t bias = 0; bias < cell.biases.size(); ++bias)
    results[std::string("grad.") + cell.biases[bias]] = s.gradBiases[bias];
  return results;
}

} // namespace rnnc::bench
