// rnnc/rnnc.h — rnnc from C++: compile a recurrent model (a .rnn file, or its text) at run time
// to native kernels with LLVM's ORC JIT, hold its parameters, and run the forward pass, the
// forward and backward pass (the loss and the gradient of every parameter), and generation on
// tensors in the caller's memory. docs/api.md has a walk-through; examples/host_jit a program.
//
//   auto model = rnnc::compileFile("examples/elman.rnn", {.dims = {{"H", 256}}});
//   if (!model) { std::cerr << model.error().message; return 1; }
//   model->parameters().initialize(/*seed=*/1);
//   std::vector<int32_t> x(T * B), y(T * B);             // time-major [T, B] token ids
//   auto result = model->forwardBackward({{"x", rnnc::TensorView::of(x.data(), {T, B})},
//                                         {"y", rnnc::TensorView::of(y.data(), {T, B})}});
//   double loss = *result->loss();                          // grad.<param>: result->gradient(p)
//
// Contract:
//   - Nothing here aborts or throws for bad input: every failure is a Result holding a Failure
//     whose message is the one the `rnnc` command line prints for the same mistake (model errors
//     as `file:line:col: error: …` with the source line and a caret; tensor errors naming the
//     tensor). Running out of memory is reported as a Failure too.
//   - Tensors are dense, row-major, little-endian; sequences are time-major [T, B, …], static
//     values [B, …], token ids int32, per-example lengths an int32 tensor [B] named `lengths` (or
//     `lengths.<axis>` when the model has several time axes), as in the CLI's tensor files.
//     Views are read during the call only; nothing keeps a pointer to caller memory.
//   - Outputs follow the reference interpreter's layout: `loss` and `grad.<param>` are summed over
//     the batch; every other output is per example with zeros past each example's length.
//   - A Model is used by one thread at a time; use one Model per thread to run in parallel.
//   - Kernels are compiled on a Model's first call of each kind (forward, forward+backward,
//     generate) and cached on disk (see CompileOptions), so the next process compiling the same
//     model pays milliseconds.
//
// This header includes only the standard library. Linking: the `rnnc_api` CMake target, which
// links LLVM (the JIT) and rnnc's compiler libraries.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace rnnc {

/// Why a call failed. `message` is the command line's message, complete, without a final newline
/// (a model error spans several lines: the diagnostic, the source line, the caret).
struct Failure {
  enum class Kind {
    User,    ///< A mistake in the model, the options or the tensors: the message says which.
    Internal ///< A bug in rnnc; the message starts with "internal error: ".
  };
  Kind kind = Kind::User;
  std::string message;
};

/// A value or a Failure. Test it before use: `if (!result) … result.error().message …`.
template <typename T> class [[nodiscard]] Result {
public:
  Result(T value) : storage_(std::move(value)) {}
  Result(Failure failure) : storage_(std::move(failure)) {}

  explicit operator bool() const { return storage_.index() == 0; }
  bool ok() const { return storage_.index() == 0; }

  /// The value; only when ok().
  T &value() { return std::get<0>(storage_); }
  const T &value() const { return std::get<0>(storage_); }
  T &operator*() { return value(); }
  const T &operator*() const { return value(); }
  T *operator->() { return &value(); }
  const T *operator->() const { return &value(); }

  /// The failure; only when !ok().
  const Failure &error() const { return std::get<1>(storage_); }

private:
  std::variant<T, Failure> storage_;
};

/// Success or a Failure.
template <> class [[nodiscard]] Result<void> {
public:
  Result() = default;
  Result(Failure failure) : failure_(std::move(failure)) {}

  explicit operator bool() const { return !failure_; }
  bool ok() const { return !failure_; }
  const Failure &error() const { return *failure_; }

private:
  std::optional<Failure> failure_;
};

enum class ElementType { F32, F64, I32 };

/// The ElementType of float, double and int32_t.
template <typename T> constexpr ElementType elementTypeOf();
template <> constexpr ElementType elementTypeOf<float>() { return ElementType::F32; }
template <> constexpr ElementType elementTypeOf<double>() { return ElementType::F64; }
template <> constexpr ElementType elementTypeOf<int32_t>() { return ElementType::I32; }

/// A read-only view of a dense row-major tensor in someone else's memory.
struct TensorView {
  const void *data = nullptr;
  ElementType type = ElementType::F32;
  std::vector<int64_t> shape;

  template <typename T> static TensorView of(const T *data, std::vector<int64_t> shape) {
    return {data, elementTypeOf<T>(), std::move(shape)};
  }
  /// The product of the shape (1 for a scalar).
  int64_t elementCount() const {
    int64_t count = 1;
    for (int64_t extent : shape)
      count *= extent;
    return count;
  }
  /// The elements as T; nullptr when T is not the element type.
  template <typename T> const T *as() const {
    return type == elementTypeOf<T>() ? static_cast<const T *>(data) : nullptr;
  }
};

/// A writable view (a model's parameters).
struct MutableTensorView {
  void *data = nullptr;
  ElementType type = ElementType::F32;
  std::vector<int64_t> shape;

  operator TensorView() const { return {data, type, shape}; }
  int64_t elementCount() const { return TensorView(*this).elementCount(); }
  template <typename T> T *as() const {
    return type == elementTypeOf<T>() ? static_cast<T *>(data) : nullptr;
  }
};

/// Inputs, targets and lengths of one batch by name (the CLI's tensor-file names).
using TensorViews = std::map<std::string, TensorView>;

enum class Precision { F32, F64 };

struct CompileOptions {
  /// Dim overrides, as `-D H=512` on the command line; a dim the model lacks is an error.
  std::map<std::string, long long> dims = {};
  /// The arithmetic of the kernels and the element type of the parameters.
  Precision precision = Precision::F32;
  /// Derive back-propagation through time, for forwardBackward.
  bool backward = true;
  /// Truncated BPTT: gradients flow back at most `truncate` steps (0: the whole sequence).
  int64_t truncate = 0;
  /// Save the carried states every `checkpoint` steps and recompute the rest (0: save all).
  int64_t checkpoint = 0;
  /// Threads the kernels may use; results do not depend on it.
  int threads = 1;
  /// What runs the graphs: "jit" (native code) or "interp" (the reference interpreter).
  std::string backend = "jit";
  /// Every call fails (a User Failure) when an output holds a NaN or an infinity, naming the
  /// output, the step and the example (counted from 0) of the first one, as `rnnc run
  /// --check-finite` does: the earliest step first, then the lowest example, then the static
  /// outputs, then `loss`, then the gradients in the same order.
  bool checkFinite = false;
  // The JIT's compile cache lives in $XDG_CACHE_HOME/rnnc (else $HOME/.cache/rnnc); the
  // environment variable RNNC_CACHE=off disables it.
};

namespace detail {
struct ModelState;
struct Access; ///< How the implementation reaches the private parts.
} // namespace detail

/// The tensors a call returns, owned by this object (views into it die with it).
class Outputs {
public:
  Outputs(Outputs &&) noexcept;
  Outputs &operator=(Outputs &&) noexcept;
  ~Outputs();

  /// Every output name, sorted.
  std::vector<std::string> names() const;
  bool contains(const std::string &name) const;
  /// The output `name`; a Failure naming it when there is none.
  Result<TensorView> get(const std::string &name) const;
  /// `loss` (summed over the batch) as a double; a Failure when the model has no loss.
  Result<double> loss() const;
  /// `grad.<parameter>` (summed over the batch); only after forwardBackward.
  Result<TensorView> gradient(const std::string &parameter) const;

private:
  friend struct detail::Access;
  struct Impl;
  explicit Outputs(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// A model's parameters: named tensors (the model's `param` names) of the model's precision,
/// owned by the Model. Views stay valid until load() or the Model's end.
class ParameterStore {
public:
  /// Every parameter name, sorted.
  std::vector<std::string> names() const;
  /// The parameter `name`, writable in place; a Failure naming it when there is none.
  Result<MutableTensorView> get(const std::string &name);
  Result<TensorView> get(const std::string &name) const;
  /// Sets every parameter as its declaration says (`= glorot`, …) from `seed`: the values of
  /// `rnnc init --seed S` (in the model's precision).
  Result<void> initialize(uint64_t seed);
  /// Reads a safetensors file (of `rnnc init`, `rnnc train`, PyTorch): every parameter must be
  /// present with its shape, F32 or F64; optimiser state and other dotted names of a training
  /// checkpoint are skipped; anything else is an error. Nothing changes on failure.
  Result<void> load(const std::string &path);
  /// Writes the parameters as a safetensors file (atomically), with the model's name and dims
  /// as metadata, as `rnnc init` does.
  Result<void> save(const std::string &path) const;

private:
  friend class Model;
  friend struct detail::Access;
  explicit ParameterStore(detail::ModelState *state) : state_(state) {}
  detail::ModelState *state_;
};

/// What a model reads: an input or a target.
struct DataInfo {
  std::string name;
  bool isTarget = false;
  ElementType type = ElementType::F32; ///< I32 for token ids; reals may also be given as F64.
  /// The shape of one example's value at one step (tokens: []); a view adds [T, B] or [B].
  std::vector<int64_t> shape;
  std::string axis;       ///< The time axis ("t"); empty for a static value.
  int64_t vocabulary = 0; ///< Tokens: the number of ids.
};

struct GenerateOptions {
  /// Steps generated after each example's prime.
  int64_t steps = 1;
  /// Seeds the sampling; equal seeds give equal samples.
  uint64_t seed = 0;
  /// Take the most likely token instead of sampling.
  bool greedy = false;
};

class Model {
public:
  Model(Model &&) noexcept;
  Model &operator=(Model &&) noexcept;
  ~Model();

  /// The name in the model file (`model elman { … }`).
  const std::string &name() const;
  /// Every dim with its value (overrides applied).
  const std::map<std::string, long long> &dims() const;
  /// The inputs and targets, in declaration order.
  const std::vector<DataInfo> &data() const;

  ParameterStore &parameters() { return parameters_; }
  const ParameterStore &parameters() const { return parameters_; }

  /// Every output of the model and `loss`, for the inputs and targets of `batch`. Without any
  /// target (inference), the outputs that need none, and no `loss`; some targets but not all is
  /// a Failure naming a missing one.
  Result<Outputs> forward(const TensorViews &batch);
  /// `loss` and `grad.<param>` for every parameter (and `grad.<input>` for real inputs). Needs
  /// CompileOptions::backward.
  Result<Outputs> forwardBackward(const TensorViews &batch);
  /// Generation (the model's `generate` clause): `prime` holds each generated input's prime
  /// [Tp, B] (absent or Tp = 0: none), optionally the per-example prime lengths, and any other
  /// input the model reads; the outputs hold the generated sequences [prime + steps, B] by the
  /// generated inputs' names.
  Result<Outputs> generate(const TensorViews &prime, const GenerateOptions &options = {});

private:
  friend struct detail::Access;
  explicit Model(std::unique_ptr<detail::ModelState> state);
  std::unique_ptr<detail::ModelState> state_;
  ParameterStore parameters_;
};

/// Compiles the model file at `path`.
Result<Model> compileFile(const std::string &path, const CompileOptions &options = {});
/// Compiles model text; `filename` is what diagnostics call it.
Result<Model> compileString(std::string_view source, const CompileOptions &options = {},
                            const std::string &filename = "<string>");

struct OptimizerOptions {
  enum class Method { Adam, Sgd };
  Method method = Method::Adam;
  double momentum = 0.9;                             ///< SGD's momentum (0: plain SGD).
  double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8; ///< Adam's.
  /// Scale the gradients down when their global L2 norm exceeds this (0: never).
  double clipNorm = 0;
};

/// The optimisers of `rnnc train` (PyTorch's update rules, runtime/Optimizer.h) over a
/// ParameterStore. Holds the moments; one optimiser per model.
class ParameterOptimizer {
public:
  explicit ParameterOptimizer(const OptimizerOptions &options = {});
  ParameterOptimizer(ParameterOptimizer &&) noexcept;
  ParameterOptimizer &operator=(ParameterOptimizer &&) noexcept;
  ~ParameterOptimizer();

  /// Updates every parameter with its `grad.<name>` from `gradients` (the result of
  /// forwardBackward), after clipping; returns the gradients' global norm before clipping. A
  /// NaN or infinite gradient is a Failure naming it, and nothing is updated.
  Result<double> step(ParameterStore &parameters, const Outputs &gradients, double learningRate);

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace rnnc
