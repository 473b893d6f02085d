// host_jit — rnnc from a C++ program: JIT-compiles the Elman character model (examples/elman.rnn)
// through <rnnc/rnnc.h>, trains it with Adam for a few steps to predict the next character of a
// tiny text, printing the loss of every step, then lets it write a few characters.
//
//   host_jit [MODEL.rnn] [STEPS]
#include <rnnc/rnnc.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

/// Prints a failure and gives the exit status of main.
static int fail(const rnnc::Failure &failure) {
  std::fprintf(stderr, "%s\n", failure.message.c_str());
  return 1;
}

int main(int argc, char **argv) {
  std::string path = argc > 1 ? argv[1] : RNNC_EXAMPLES_DIR "/elman.rnn";
  int steps = argc > 2 ? std::atoi(argv[2]) : 30;

  // The text, and its characters as the vocabulary: token id = index in `vocabulary`.
  const std::string text = "the quick brown fox jumps over the lazy dog; the dog sleeps. ";
  std::string vocabulary;
  for (char c : text)
    if (vocabulary.find(c) == std::string::npos)
      vocabulary += c;
  auto id = [&](char c) { return int32_t(vocabulary.find(c)); };

  // Compile elman with its vocabulary dim K set to ours (like `rnnc ... -D K=.. -D H=32`).
  rnnc::CompileOptions options;
  options.dims = {{"K", (long long)vocabulary.size()}, {"H", 32}};
  auto model = rnnc::compileFile(path, options);
  if (!model)
    return fail(model.error());
  if (auto initialized = model->parameters().initialize(/*seed=*/1); !initialized)
    return fail(initialized.error());

  // One batch of B windows of T characters, time-major [T, B]: x the text, y the next character.
  const int64_t T = 24, B = 4;
  std::vector<int32_t> x(T * B), y(T * B);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t) {
      size_t at = size_t(b * 9 + t);
      x[t * B + b] = id(text[at]);
      y[t * B + b] = id(text[at + 1]);
    }
  rnnc::TensorViews batch = {{"x", rnnc::TensorView::of(x.data(), {T, B})},
                             {"y", rnnc::TensorView::of(y.data(), {T, B})}};

  rnnc::ParameterOptimizer adam({.clipNorm = 5.0});
  for (int step = 1; step <= steps; ++step) {
    auto result = model->forwardBackward(batch); // loss and grad.<param>, summed over the batch
    if (!result)
      return fail(result.error());
    double loss = *result->loss() / double(T * B); // nats per character
    if (auto updated = adam.step(model->parameters(), *result, /*learningRate=*/0.02); !updated)
      return fail(updated.error());
    std::printf("step %d: loss %.4f\n", step, loss);
  }

  // Generation: prime with "the ", then 30 characters, each the most likely one.
  std::vector<int32_t> prime;
  for (char c : std::string("the "))
    prime.push_back(id(c));
  auto generated = model->generate({{"x", rnnc::TensorView::of(prime.data(), {4, 1})}},
                                   {.steps = 30, .greedy = true});
  if (!generated)
    return fail(generated.error());
  auto sequence = generated->get("x"); // [4 + 30, 1]
  std::string sample;
  for (int64_t t = 0; t < sequence->shape[0]; ++t)
    sample += vocabulary[size_t(sequence->as<int32_t>()[t])];
  std::printf("sample: %s\n", sample.c_str());
  return 0;
}
